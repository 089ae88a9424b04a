"""Runs side by side and a damaged tracking store, as real `kedro run` processes.

A train and a scoring run at once each read only what they wrote; a corrupted, read-only or
emptied registry stops a run in one line naming the store and what to do; a scoring run killed
with `kill -9` leaves partial files and a RUNNING MLflow run that the next run clears, without
touching a live run's.
"""

from __future__ import annotations

import fcntl
import json
import re
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient

from lead_scoring.datasets import CallListDataset, StreamedCSVDataset
from tests.reliability.conftest import (
    LABEL,
    KedroProcess,
    error_lines,
    isolated_copy,
    read_cells,
    run_together,
    tracking_uri,
    write_export,
)

TRAIN_QUARANTINE = "02_intermediate/quarantined_leads.csv"
SCORING_QUARANTINE = "07_model_output/quarantined_leads.csv"
COUNTS = re.compile(r"(\d+) read, (\d+) scored, (\d+) quarantined")
BATCH = 3000
BROKEN_EVERY = 50


def running_runs(project: Path) -> list:
    client = MlflowClient(tracking_uri=tracking_uri(project))
    experiment = client.get_experiment_by_name("lead_scoring").experiment_id
    return client.search_runs([experiment], filter_string="attributes.status = 'RUNNING'")


def _immutable(path: Path, on: bool) -> bool:
    """Make ``path`` read-only even for root (``chattr +i``); False where that is impossible."""
    flag = "+i" if on else "-i"
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def runs(trained_project, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs_and_store")
    cells = read_cells(trained_project / "data" / "01_raw" / "leads.csv", nrows=BATCH)
    leads = cells.drop(columns=LABEL)
    leads.loc[::BROKEN_EVERY, "referred_lead"] = "maybe"
    export = write_export(leads, root / "batch.csv")
    # The train run's export: a few broken rows, so it quarantines some of its own.
    labelled = read_cells(trained_project / "data" / "01_raw" / "leads.csv")
    labelled.loc[::200, "created_date"] = "yesterday"
    train_export = write_export(labelled, root / "train.csv")

    projects = {
        name: isolated_copy(trained_project, root / name)
        for name in ("together", "corrupted", "read_only", "emptied", "killed")
    }
    store = projects["corrupted"] / "mlflow.db"
    data = bytearray(store.read_bytes())
    data[:4096] = b"\x00garbage" * 512
    store.write_bytes(bytes(data))
    read_only = _immutable(projects["read_only"] / "mlflow.db", True)
    MlflowClient(tracking_uri=tracking_uri(projects["emptied"])).delete_registered_model(
        "lead_scoring"
    )

    def score(name, project, **kwargs):
        args = ("run", "--pipeline=batch_scoring", f"--params=new_leads_path={export}")
        return KedroProcess(name, project, args, **kwargs)

    killed = projects["killed"]
    processes = [
        KedroProcess(
            "train",
            projects["together"],
            # Few trees and one backtest month: these tests are about the run and the champion
            # comparison, not the model.
            (
                "run",
                "--pipeline=train",
                f"--params=raw_leads_path={train_export},"
                "training.catboost.iterations=60,training.backtest.months=1",
            ),
        ),
        score("score", projects["together"]),
        score("corrupted", projects["corrupted"]),
        score("emptied", projects["emptied"]),
        score(
            "killed",
            killed,
            kill_when=lambda: any((killed / "data").rglob(".scored_leads.csv.*.partial")),
        ),
    ]
    if read_only:
        processes.append(score("read_only", projects["read_only"]))
    try:
        done = run_together(processes, root / "logs", parallel=3)
    finally:
        if read_only:
            _immutable(projects["read_only"] / "mlflow.db", False)
    left = {
        "partials": sorted(p.name for p in (killed / "data").rglob("*.partial")),
        "running": [run.info.run_id for run in running_runs(killed)],
    }
    rerun = run_together([score("rerun", killed)], root / "logs")["rerun"]
    return {"processes": {**done, "rerun": rerun}, "left_by_kill": left, "export": export}


# --- 3. train and score at once -----------------------------------------------------------


def test_train_and_score_at_once_both_finish_and_each_reads_only_what_it_wrote(runs):
    train, score = runs["processes"]["train"], runs["processes"]["score"]
    assert train.returncode == 0, train.output[-3000:]
    assert score.returncode == 0, score.output[-3000:]
    data = train.project / "data"
    trained = pd.read_csv(data / TRAIN_QUARANTINE, dtype=str)
    assert trained.columns.tolist() == ["row", "lead_id", "column", "rule", "value", "reason"]
    assert (trained["column"] == "created_date").all() and len(trained) > 0
    scored = pd.read_csv(data / SCORING_QUARANTINE, dtype=str)
    assert scored.columns.tolist() == ["row", "line", "lead_id", "reason"]
    assert scored["reason"].str.startswith("referred_lead: flag 0 or 1").all()
    assert len(scored) == BATCH // BROKEN_EVERY
    # The quarantined leads' file lines: the export's header is line 1.
    assert scored["line"].astype(int).tolist() == list(range(2, BATCH + 2, BROKEN_EVERY))
    read, scored_count, quarantined = map(int, COUNTS.findall(score.output)[-1])
    assert (read, quarantined) == (BATCH, BATCH // BROKEN_EVERY)


def test_a_retrain_scores_the_champion_on_its_own_holdout_before_promotion(runs):
    # This train run is a retrain of a trained project: its comparison with the champion is
    # checked here, not in a second retrain process (it was tests/test_train_run.py's).
    train = runs["processes"]["train"]
    data = train.project / "data"
    comparison = json.loads((data / "08_reporting" / "champion_comparison.json").read_text())
    assert comparison["champion_version"] == "1"
    # The champion saw every lead of this holdout: the comparison says so, and it is optimistic.
    assert comparison["only_leads_newer_than_champion_data"] is False
    assert comparison["leads"] == len(
        pd.read_parquet(data / "07_model_output" / "holdout_predictions.parquet")
    )
    assert f"Champion version 1 on the same {comparison['leads']} holdout leads" in train.output
    alias = "champion" if comparison["challenger_wins"] else "challenger"
    assert f"Registered lead_scoring version 2 as '{alias}': on the same" in train.output
    client = MlflowClient(tracking_uri=tracking_uri(train.project))
    run = client.get_run(
        json.loads((data / "08_reporting" / "mlflow_run.json").read_text())["run_id"]
    )
    assert run.data.metrics["challenge.champion_roc_auc"] == pytest.approx(
        comparison["champion_roc_auc"]
    )


# --- 8. registry faults ---------------------------------------------------------------------


def _one_line(process) -> str:
    assert process.returncode not in (0, None), process.output[-2000:]
    assert "Traceback" not in process.output, process.output[-3000:]
    (line,) = error_lines(process.stderr)
    return line


def test_a_corrupted_store_stops_in_one_line_naming_it(runs):
    process = runs["processes"]["corrupted"]
    line = _one_line(process)
    assert f"The MLflow store {process.project / 'mlflow.db'} is not a readable SQLite" in line
    assert "corrupted. Restore it from a backup" in line


def test_a_read_only_store_stops_in_one_line_naming_it(runs):
    if "read_only" not in runs["processes"]:
        pytest.skip("chattr cannot make the store read-only here")
    process = runs["processes"]["read_only"]
    line = _one_line(process)
    assert f"The MLflow store {process.project / 'mlflow.db'} is read-only" in line
    assert "Make the file and its folder writable" in line


def test_an_emptied_registry_says_it_was_emptied_not_just_train_first(runs):
    process = runs["processes"]["emptied"]
    line = _one_line(process)
    assert "has no model 'lead_scoring' any more" in line
    assert "the registry was emptied" in line
    assert str(process.project / "mlflow.db") in line


# --- 10. kill -9 while scoring --------------------------------------------------------------


def test_the_run_after_a_killed_one_removes_its_partials_and_fails_its_run(runs):
    killed, rerun = runs["processes"]["killed"], runs["processes"]["rerun"]
    assert killed.killed and killed.returncode == -signal.SIGKILL, killed.output[-2000:]
    assert runs["left_by_kill"]["partials"], "the kill left no partial file to clear"
    (abandoned,) = runs["left_by_kill"]["running"]
    assert rerun.returncode == 0, rerun.output[-3000:]
    assert not list((rerun.project / "data").rglob("*.partial"))
    assert not [p for p in (rerun.project / "data").rglob(".call_list.csv.*") if p.is_dir()]
    client = MlflowClient(tracking_uri=tracking_uri(rerun.project))
    assert client.get_run(abandoned).info.status == "FAILED"
    assert f"Marked MLflow run {abandoned} FAILED" in rerun.output
    assert not running_runs(rerun.project)


def test_a_live_runs_partial_file_survives_another_runs_clean_up(tmp_path):
    path = tmp_path / "scored_leads.csv"
    frame = pd.DataFrame({"lead_id": ["a", "b"], "score": [10, 20]})
    live = StreamedCSVDataset(filepath=str(path))
    live.save(frame)
    (live_partial,) = tmp_path.glob(".scored_leads.csv.*.partial")
    stale = tmp_path / ".scored_leads.csv.killed.partial"
    stale.write_text("lead_id,score\nz,1\n")
    other = StreamedCSVDataset(filepath=str(path))
    other.save(frame)
    assert live_partial.exists() and not stale.exists()
    live.commit()
    assert pd.read_csv(path)["lead_id"].tolist() == ["a", "b"]
    other.discard()
    assert not list(tmp_path.glob("*.partial"))


def test_only_runs_whose_process_is_gone_are_marked_failed(tmp_path):
    from lead_scoring.tracking_store import RUN_LOCK_TAG, fail_abandoned_runs

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("runs")
    locks = tmp_path / "locks"
    locks.mkdir()
    live_lock, dead_lock = locks / "live.lock", locks / "dead.lock"
    live_lock.touch()
    dead_lock.touch()
    live, dead, untagged, current = (client.create_run(experiment) for _ in range(4))
    client.set_tag(live.info.run_id, RUN_LOCK_TAG, str(live_lock))
    client.set_tag(dead.info.run_id, RUN_LOCK_TAG, str(dead_lock))
    with live_lock.open("a") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        failed = fail_abandoned_runs(client, experiment, current.info.run_id)
    assert failed == [dead.info.run_id]
    status = [client.get_run(run.info.run_id).info.status for run in (live, dead, untagged)]
    assert status == ["RUNNING", RunStatus.to_string(RunStatus.FAILED), "RUNNING"]


def test_a_live_runs_call_list_folder_survives_another_runs_clean_up(tmp_path):
    path = tmp_path / "call_list.csv"
    frame = pd.DataFrame({"lead_id": ["a", "b"], "score": [10, 20]})
    live = CallListDataset(filepath=str(path))
    live.save(frame)
    (live_folder,) = tmp_path.glob(".call_list.csv.*")
    # A killed run's folder: its lock file is there, and nobody holds it.
    stale = tmp_path / ".call_list.csv.killed"
    stale.mkdir()
    (stale / ".lock").touch()
    (stale / "010.csv").write_text("z,10\n")
    other = CallListDataset(filepath=str(path))
    other.save(frame)
    assert live_folder.is_dir() and not stale.exists()
    live.commit()
    assert pd.read_csv(path)["lead_id"].tolist() == ["b", "a"]
    other.discard()
    assert not [p for p in tmp_path.glob(".call_list.csv.*") if p.is_dir()]
