"""notebooks/exploration.ipynb: committed clean, and runs top to bottom on a trained project."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "exploration.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def run_notebook(project: Path, monkeypatch) -> tuple[nbformat.NotebookNode, str]:
    """The committed notebook executed in ``project``'s notebooks/, as `kedro jupyter` runs it,
    and what its cells printed."""
    # "python3" must start this interpreter, whose environment holds the project and Kedro.
    command = KernelSpecManager().get_kernel_spec("python3").argv[0]
    assert command in {"python", "python3", sys.executable}, f"python3 kernel runs {command}"
    for name in [name for name in os.environ if name.startswith("MLFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    target = project / "notebooks" / NOTEBOOK.name
    shutil.copy(NOTEBOOK, target)
    notebook = nbformat.read(target, as_version=4)
    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(target.parent)}},
    ).execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("name") == "stdout"
    )
    return notebook, printed


@pytest.mark.slow
def test_notebook_runs_against_the_trained_project(trained_project, tmp_path, monkeypatch):
    # A private copy: the kernel writes to the project, other tests share the trained one.
    project = shutil.copytree(trained_project, tmp_path / "project")
    notebook, printed = run_notebook(project, monkeypatch)
    assert "lead_scoring version 1 is the champion" in printed
    leads = [line for line in printed.splitlines() if line.startswith("Lead ")]
    assert len(leads) == 8 and all(line.endswith(" because:") for line in leads)
    reasons = [line.strip() for line in printed.splitlines() if line.startswith("    ")]
    assert len(reasons) == 24
    assert all(r.endswith(("which raises the score.", "which lowers the score.")) for r in reasons)
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) >= 3
    # The notebook opens without a screen of library warnings.
    stderr = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("name") == "stderr"
    )
    assert "Warning" not in stderr, stderr[:2000]
