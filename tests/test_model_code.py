"""The code the registered model carries: what scoring imports, importable without the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lead_scoring.model_code import ScoringCode, imported_modules
from lead_scoring.pipeline_registry import register_pipelines
from tests.conftest import kedro_env

ISOLATED = Path(__file__).with_name("isolated_model_code.py")


def carried_code() -> ScoringCode:
    """The code the train pipeline gives MLflow to log with the model."""
    (code,) = register_pipelines()["train"].log_model_kwargs["code_paths"]
    return code


def run_isolated(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ISOLATED), *args],
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_carried_code_is_the_scoring_core_and_what_it_imports():
    modules = set(imported_modules(carried_code().roots))
    assert {
        "lead_scoring.pipelines.lead_model.nodes",
        "lead_scoring.pipelines.validation.schemas",
        "lead_scoring.pipelines.feature_engineering.nodes",
        "lead_scoring.datasets.catboost_model_dataset",
        "lead_scoring.contract",
    } <= modules
    others = {
        "lead_scoring.store",
        "lead_scoring.pipelines.reporting",
        "lead_scoring.pipelines.training",
        "lead_scoring.pipelines.batch_scoring",
        "lead_scoring.datasets.lead_store",
        "lead_scoring.datasets.report_figure_dataset",
        "lead_scoring.cli",
    }
    assert not modules & others


def test_the_carried_code_imports_without_airflow_generators_or_run_hooks():
    folder = Path(os.fspath(carried_code()))
    assert folder.name == "lead_scoring"
    roots = [
        "lead_scoring.pipelines.lead_model",
        "lead_scoring.datasets.catboost_model_dataset",
        "lead_scoring.runner",
    ]
    result = run_isolated("--code", str(folder.parent), "--import", *roots)
    assert result.returncode == 0, result.stderr[-3000:]
    imported = json.loads(result.stdout.splitlines()[-1])
    assert {"lead_scoring.pipelines.lead_model.nodes", "lead_scoring.frames"} <= set(imported)
    # Every project module the scoring core imported came from the carried copy.
    assert all(Path(file).is_relative_to(folder.resolve()) for file in imported.values())


def test_the_isolation_refuses_what_the_project_would_otherwise_import():
    # The check above can fail: the project's full package does not import there.
    source = Path(__file__).resolve().parents[1] / "src"
    result = run_isolated("--code", str(source), "--import", "lead_scoring.settings")
    assert result.returncode != 0
    assert "lead_scoring.settings is absent where the model runs" in result.stderr
