"""`kedro run --pipeline=generate` never replaces an existing export unless asked to."""

from __future__ import annotations

import pytest

from tests.conftest import copy_project, run_kedro


@pytest.mark.slow
def test_generate_refuses_to_replace_an_export_and_replaces_it_when_asked(tmp_path):
    project = copy_project(tmp_path / "project")
    export = project / "data" / "01_raw" / "leads.csv"
    export.write_text("created_date\n2022-01-01 00:00:00\n")
    before = export.read_bytes()

    refused = run_kedro(project, "run", "--pipeline=generate", check=False)
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.startswith("Error: ")]
    assert lines == [
        f"Error: {export} already exists and generate does not replace it: write elsewhere "
        "with --params=generated_leads_path=data/01_raw/other_leads.csv, or replace it with "
        "--params=generate.overwrite=true."
    ]
    assert "Traceback" not in refused.stdout + refused.stderr
    assert export.read_bytes() == before

    run_kedro(
        project,
        "run",
        "--pipeline=generate",
        "--params=generate.n_leads=300,generate.overwrite=true",
    )
    assert len(export.read_text().splitlines()) == 301
