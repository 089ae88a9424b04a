"""A train run and a scoring run as a user types them: no library warnings, a summary at the end."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from tests.conftest import copy_project, run_kedro

pytestmark = pytest.mark.slow


def warning_lines(output: str) -> list[str]:
    """Warnings of the libraries; the project's own (a drift alert, say) are its output."""
    return [
        line
        for line in output.splitlines()
        if ("Warning" in line or " WARNING " in line) and " WARNING lead_scoring." not in line
    ]


def summary(output: str, pipeline: str, last: bool = True) -> list[str]:
    """The lines of the run summary block; with ``last``, it must end the output."""
    lines = output.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if f" {pipeline} run summary " in line]
    assert starts, f"no {pipeline} run summary in:\n{output[-3000:]}"
    ends = [i for i in range(starts[-1] + 1, len(lines)) if set(lines[i]) == {"="}]
    assert ends, "the summary block is not closed"
    if last:
        assert ends[0] == len(lines) - 1, "the summary is not the last thing printed"
    return lines[starts[-1] : ends[0] + 1]


def test_a_train_run_is_quiet_and_ends_with_its_summary(trained_project, small_export):
    output = (trained_project / "train_run.log").read_text()
    assert warning_lines(output) == []
    # A screen, not Kedro's narration of every node and dataset: that is in info.log.
    assert "Running node" not in output and "Loading data from" not in output
    narration = (trained_project / "info.log").read_text()
    assert "Running node" in narration and "Loading data from" in narration
    # The fixture keeps stdout and stderr together: the block ends stdout, not necessarily both.
    block = "\n".join(summary(output, "train", last=False))
    rows = len(pd.read_csv(small_export, usecols=[0]))
    assert f"Leads read {rows:,}, quarantined 0" in block
    assert re.search(r"Holdout of [\d,]+ leads: ROC AUC 0\.\d{3}", block)
    assert re.search(r"Tiers on the holdout: hot \d+%, warm \d+%, cold \d+%", block)
    assert "Model: lead_scoring version 1, alias champion" in block
    assert "Model report: data/08_reporting/model_report.html" in block
    report = (trained_project / "data" / "08_reporting" / "model_report.html").read_text()
    assert "version <strong>1</strong>, alias <strong>champion</strong>" in report


def test_a_scoring_run_is_quiet_and_ends_with_its_summary(trained_project, small_export, tmp_path):
    project = shutil.copytree(trained_project, tmp_path / "project")
    new_leads = project / "data" / "01_raw" / "new_leads.csv"
    pd.read_csv(small_export, dtype=str, nrows=1500).drop(columns="app_complete_flag").to_csv(
        new_leads, index=False
    )
    result = run_kedro(project, "run", "--pipeline=batch_scoring")
    output = result.stdout + result.stderr
    assert warning_lines(output) == []
    block = "\n".join(summary(result.stdout, "batch_scoring"))
    scored = pd.read_csv(project / "data" / "07_model_output" / "scored_leads.csv")
    tiers = scored["tier"].value_counts()
    assert "Leads read 1,500, scored 1,500, quarantined 0" in block
    assert f"hot {tiers.get('hot', 0):,} " in block and f"cold {tiers.get('cold', 0):,} " in block
    assert "Model: lead_scoring version 1, alias champion" in block
    assert "Call list (best first): data/08_reporting/call_list.csv" in block

    call_list = pd.read_csv(project / "data" / "08_reporting" / "call_list.csv", dtype=str)
    assert len(call_list) == len(scored)
    assert call_list["score"].astype(int).is_monotonic_decreasing
    assert {"city_mapped", "first_platform_c", "tier", "reason_1"} <= set(call_list)
    by_id = call_list.set_index("lead_id")
    raw = pd.read_csv(new_leads, dtype=str, keep_default_na=False).set_index("Unnamed: 0")
    assert (by_id["city_mapped"].fillna("") == raw.loc[by_id.index, "city_mapped"]).all()


def test_a_failed_train_prints_one_clear_error(tmp_path, small_export):
    project = copy_project(tmp_path / "project")
    tiny = project / "data" / "01_raw" / "tiny.csv"
    pd.read_csv(small_export, dtype=str, nrows=40).to_csv(tiny, index=False)
    result = run_kedro(
        project, "run", "--pipeline=train", f"--params=raw_leads_path={tiny}", check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert result.stderr.count("Error: ") == 1 and "training needs at least" in result.stderr
    # Said once: not again by the failed node's log line, nor by kedro-mlflow closing its run.
    assert output.count("training needs at least") == 1 and "closed because of" not in output
    assert "BEWARE" not in output and "--from-nodes" not in output
    assert warning_lines(output) == []
