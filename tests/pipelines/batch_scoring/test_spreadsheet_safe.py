"""Batch scoring of leads whose web-form text is a formula: every file a rep opens shows it as text."""

from __future__ import annotations

import pandas as pd

from tests.conftest import run_kedro
from tests.datasets.test_spreadsheet_cells import formulas, spreadsheet_cells
from tests.pipelines.batch_scoring.conftest import copy_trained_project

HYPERLINK = '=HYPERLINK("http://x","open")'
CALC = "@SUM(1+1)*cmd|' /C calc'!A0"
# A lead id from a CRM typed as a formula, on a lead that fails validation: the quarantine's cell.
HOSTILE_ID = "=1+1"


def test_formulas_typed_into_a_lead_reach_no_file_as_formulas(
    trained_project, small_export, tmp_path
):
    project = copy_trained_project(trained_project, tmp_path / "project")
    export = pd.read_csv(small_export, dtype=str, keep_default_na=False, nrows=40)
    export = export.drop(columns=["app_complete_flag"]).rename(columns={"Unnamed: 0": ""})
    export.loc[0, "city_mapped"] = HYPERLINK
    export.loc[1, "city_mapped"] = CALC
    export.loc[2, ""] = HOSTILE_ID
    export.loc[2, "created_date"] = "yesterday"
    export.to_csv(project / "data" / "01_raw" / "new_leads.csv", index=False)
    run_kedro(project, "run", "--pipeline=batch_scoring")

    outputs = {
        name: project / "data" / path
        for name, path in {
            "call list": "08_reporting/call_list.csv",
            "scored leads": "07_model_output/scored_leads.csv",
            "quarantine": "07_model_output/quarantined_leads.csv",
        }.items()
    }
    for name, path in outputs.items():
        assert formulas(spreadsheet_cells(path)) == [], f"{name} holds a formula"
    calls = spreadsheet_cells(outputs["call list"])
    # Shown as the text the lead typed: the mark is what tells the spreadsheet so.
    assert f"'{HYPERLINK}" in calls and f"'{CALC}" in calls
    assert f"'{HOSTILE_ID}" in spreadsheet_cells(outputs["quarantine"])
    # The other 39 leads are scored, the broken one quarantined: none lost to the quoting.
    assert len(pd.read_csv(outputs["call list"])) == 39
