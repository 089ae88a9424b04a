"""Broken exports through `kedro run`, as a user meets them: one line, a non-zero exit, no
traceback, and the outputs of earlier runs left as they were.

All runs start together, each in its own copy of the trained project, to keep the suite short.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.pipelines.monitoring.nodes import HISTORY_COLUMNS
from tests.reliability.conftest import (
    INDEX,
    LABEL,
    KedroProcess,
    changed_files,
    error_lines,
    isolated_copy,
    read_cells,
    run_together,
    snapshot,
    tracking_uri,
    write_export,
)

pytestmark = pytest.mark.slow

QUARANTINE = "02_intermediate/quarantined_leads.csv"
SCORING_QUARANTINE = "07_model_output/quarantined_leads.csv"
SCORED = "07_model_output/scored_leads.csv"
HISTORY = "08_reporting/drift_history.csv"
COUNTS = re.compile(r"(\d+) read, (\d+) scored, (\d+) quarantined")

# name: (pipeline, what the CLI's one line must say, files the stop may rewrite)
STOPS = {
    "train_missing_column": (
        "train",
        [
            "Error: The lead export lacks 1 required column(s): referred_lead. "
            "Unrecognised column(s) in the export: 'Referred Lead'."
        ],
        set(),
    ),
    "train_empty_file": ("train", ["Error: raw_leads: Lead export '", "' is empty"], set()),
    "train_label_not_0_or_1": (
        "train",
        [
            "Error: 200 of 2000 leads (10.0%) failed validation, more than the allowed 5%",
            "Example: row 0, app_complete_flag: label 0 or 1 (got 2).",
            "Details in data/02_intermediate/quarantined_leads.csv.",
        ],
        {QUARANTINE},
    ),
    "train_every_row_invalid": (
        "train",
        [
            "Error: 2000 of 2000 leads (100.0%) failed validation",
            "Example: row 0, created_date: timestamp %Y-%m-%d %H:%M:%S (got yesterday).",
        ],
        {QUARANTINE},
    ),
    "inference_missing_column": (
        "batch_scoring",
        ["Error: The lead export lacks 1 required column(s): whatsapp_chat_click."],
        set(),
    ),
}


EARLIER_HISTORY = (
    ",".join(HISTORY_COLUMNS) + "\n2022-01-01T00:00:00+00:00,1,score,numeric,0.01,stable,,900\n"
)


def plant_earlier_scoring_outputs(data) -> None:
    """Outputs of an earlier scoring run, which a failed run must leave as they are."""
    (data / "07_model_output").mkdir(exist_ok=True)
    (data / SCORED).write_text("lead_id,probability,score,tier\nearlier-1,0.5,50,warm\n")
    (data / SCORING_QUARANTINE).write_text(
        "row,lead_id,reason\n3,earlier-4,created_date: earlier\n"
    )
    (data / HISTORY).write_text(EARLIER_HISTORY)


@pytest.fixture(scope="module")
def runs(trained_project, tmp_path_factory):
    """Every broken export through `kedro run`, with the data folder before and after."""
    root = tmp_path_factory.mktemp("bad_input_cli")
    cells = read_cells(trained_project / "data" / "01_raw" / "leads.csv", nrows=2000)
    new_leads = cells.drop(columns=LABEL).head(500)
    exports = root / "exports"
    exports.mkdir()
    bad_labels = cells.copy()
    bad_labels.loc[::10, LABEL] = "2"
    files = {
        "train_missing_column": write_export(
            cells.rename(columns={"referred_lead": "Referred Lead"}), exports / "renamed.csv"
        ),
        "train_empty_file": exports / "empty.csv",
        "train_label_not_0_or_1": write_export(bad_labels, exports / "labels.csv"),
        "train_every_row_invalid": write_export(
            cells.assign(created_date="yesterday"), exports / "dates.csv"
        ),
        "inference_missing_column": write_export(
            new_leads.drop(columns="whatsapp_chat_click"), exports / "no_whatsapp.csv"
        ),
        "inference_every_row_invalid": write_export(
            new_leads.assign(referred_lead="maybe"), exports / "all_invalid.csv"
        ),
        "inference_one_row": write_export(new_leads.iloc[[7]], exports / "one_row.csv"),
    }
    files["train_empty_file"].write_bytes(b"")
    processes, before = [], {}
    for name, export in files.items():
        project = isolated_copy(trained_project, root / name)
        pipeline = "train" if name.startswith("train_") else "batch_scoring"
        if pipeline == "batch_scoring":
            plant_earlier_scoring_outputs(project / "data")
        before[name] = snapshot(project / "data")
        parameter = "raw_leads_path" if pipeline == "train" else "new_leads_path"
        processes.append(
            KedroProcess(
                name, project, ("run", f"--pipeline={pipeline}", f"--params={parameter}={export}")
            )
        )
    done = run_together(processes, root / "logs")
    return {
        name: (process, before[name], snapshot(process.project / "data"), files[name])
        for name, process in done.items()
    }


@pytest.mark.parametrize("name", STOPS)
def test_a_broken_export_stops_the_run_with_one_clear_line(name, runs):
    process, *_ = runs[name]
    _, fragments, _ = STOPS[name]
    assert process.returncode not in (0, None), process.output[-3000:]
    assert "Traceback" not in process.output
    (line,) = error_lines(process.stderr)
    for fragment in fragments:
        assert fragment in line, line


@pytest.mark.parametrize("name", STOPS)
def test_a_stopped_run_leaves_models_and_earlier_outputs_as_they_were(name, runs):
    process, before, after, _ = runs[name]
    # A train stop rewrites only the quarantine its message points to; nothing else is written.
    assert changed_files(before, after) <= STOPS[name][2]
    client = MlflowClient(tracking_uri=tracking_uri(process.project))
    versions = client.search_model_versions("name='lead_scoring'")
    assert [str(v.version) for v in versions] == ["1"]
    assert str(client.get_model_version_by_alias("lead_scoring", "champion").version) == "1"


@pytest.mark.parametrize("name", ["train_label_not_0_or_1", "train_every_row_invalid"])
def test_the_quarantine_a_stop_points_to_holds_every_failed_row_with_its_reason(name, runs):
    process, _, _, export = runs[name]
    failed, read = map(int, re.search(r"Error: (\d+) of (\d+) leads", process.stderr).groups())
    quarantine = pd.read_csv(process.project / "data" / QUARANTINE, dtype=str)
    assert len(quarantine) == failed
    assert quarantine["reason"].str.len().gt(0).all()
    assert read == len(read_cells(export))


def test_a_batch_where_every_row_is_invalid_scores_nothing_and_quarantines_all(runs):
    process, before, after, export = runs["inference_every_row_invalid"]
    assert process.returncode == 0, process.output[-3000:]
    leads = read_cells(export)
    read, scored, quarantined = map(int, COUNTS.findall(process.output)[-1])
    assert (read, scored, quarantined) == (len(leads), 0, len(leads))
    data = process.project / "data"
    assert pd.read_csv(data / SCORED).empty
    quarantine = pd.read_csv(data / SCORING_QUARANTINE, dtype=str)
    assert quarantine["lead_id"].tolist() == leads[INDEX].tolist()
    assert quarantine["reason"].str.startswith("referred_lead: flag 0 or 1 (got maybe)").all()
    # The earlier history is kept byte for byte; this run's rows follow it.
    history = (data / HISTORY).read_text()
    assert history.startswith(EARLIER_HISTORY)
    appended = pd.read_csv(data / HISTORY).iloc[1:]
    assert len(appended) > 0
    assert appended["run_time"].nunique() == 1
    assert changed_files(before, after) >= {SCORED, SCORING_QUARANTINE, HISTORY}


def test_a_one_row_batch_scores_its_lead(runs):
    process, _, _, export = runs["inference_one_row"]
    assert process.returncode == 0, process.output[-3000:]
    assert COUNTS.findall(process.output)[-1] == ("1", "1", "0")
    scored = pd.read_csv(process.project / "data" / SCORED, dtype=str)
    assert scored["lead_id"].tolist() == read_cells(export)[INDEX].tolist()
    assert 1 <= int(scored.loc[0, "score"]) <= 99
    assert pd.read_csv(process.project / "data" / SCORING_QUARANTINE).empty
