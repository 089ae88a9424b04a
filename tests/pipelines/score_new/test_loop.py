"""The loop as a scheduler runs it: daily files ingested, new leads scored, a retrain from the store.

One copy of the trained project goes through the whole sequence once (each step is a kedro
process); the tests read what each step printed and left in the store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.datasets import LeadStore
from tests.conftest import daily_exports, run_kedro

# Nine kedro processes, one of them a training: two stages, each within the allowance.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

LEADS_PER_DAY = 300
DAYS = ["2022-02-15", "2022-02-16", "2022-02-17"]


def _store(project: Path) -> LeadStore:
    return LeadStore(f"sqlite:///{project / 'data' / '03_primary' / 'lead_store.db'}")


def _snapshot(project: Path) -> dict[str, pd.DataFrame]:
    store = _store(project)
    return {name: store.table(name) for name in ("leads", "scored_leads", "ingest_log")}


def _output(result) -> str:
    return result.stdout + result.stderr


def _step(steps: dict, name: str, pipeline: str, *params: str, check: bool = True) -> None:
    """Run one pipeline in the loop's project; keep its process and the store after it."""
    project = steps["project"]
    args = ["run", f"--pipeline={pipeline}", *([f"--params={','.join(params)}"] if params else [])]
    steps[name] = run_kedro(project, *args, check=check)
    steps[f"{name} store"] = _snapshot(project)


@pytest.fixture(scope="module")
def first_days(trained_project, tmp_path_factory) -> dict:
    """Two daily files ingested and scored, each step twice."""
    project = Path(
        shutil.copytree(
            trained_project,
            tmp_path_factory.mktemp("loop") / "project",
            ignore=shutil.ignore_patterns("__pycache__", "*.log"),
        )
    )
    daily = project / "daily"
    landing = project / "data" / "01_raw" / "landing"
    landing.mkdir(parents=True)
    steps: dict = {"project": project}
    daily_exports(project, daily, first_day=DAYS[0], days=len(DAYS), leads_per_day=LEADS_PER_DAY)
    for day in DAYS[:2]:
        shutil.copy(daily / f"{day}_leads.csv", landing)

    for name, pipeline in [
        ("ingest", "ingest"),
        ("ingest again", "ingest"),
        ("score", "score_new"),
        ("score again", "score_new"),
    ]:
        _step(steps, name, pipeline)
    return steps


@pytest.fixture(scope="module")
def loop(first_days) -> dict:
    """Then a third day and every outcome, a drift alert, a retrain and a new champion."""
    steps = first_days
    project = steps["project"]
    daily = project / "daily"
    landing = project / "data" / "01_raw" / "landing"
    # A new day's file, and the outcomes of every day, its own included: one run.
    shutil.copy(daily / f"{DAYS[2]}_leads.csv", landing)
    for day in DAYS:
        shutil.copy(daily / f"{day}_outcomes.csv", landing)
    _step(steps, "ingest new file", "ingest")
    # Every batch judged, and any shift of the score alerts: the run must fail after storing.
    _step(
        steps,
        "score new file",
        "score_new",
        "monitoring.min_batch_rows=1",
        "score_new.drift_alert.score_psi=0",
        check=False,
    )
    steps["alerted call list"] = pd.read_csv(
        project / "data" / "08_reporting" / "call_list_new.csv", dtype=str, keep_default_na=False
    )
    _step(steps, "train from store", "train_from_store")
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    newest = max(int(v.version) for v in client.search_model_versions("name='lead_scoring'"))
    client.set_registered_model_alias("lead_scoring", "champion", str(newest))
    steps["champion"] = str(newest)
    _step(steps, "score after promotion", "score_new")
    return steps


def _files_rows(loop: dict, days: list[str]) -> int:
    daily = loop["project"] / "daily"
    return sum(len(pd.read_csv(daily / f"{day}_leads.csv")) for day in days)


def test_every_lead_is_stored_once_and_a_rerun_changes_nothing(first_days):
    loop = first_days
    stored = loop["ingest store"]["leads"]
    assert len(stored) == _files_rows(loop, DAYS[:2])
    assert stored["lead_id"].is_unique
    for name, table in loop["ingest again store"].items():
        pd.testing.assert_frame_equal(table, loop["ingest store"][name])
    assert "No new landing files; the store holds" in _output(loop["ingest again"])
    assert "Ingested 2 file(s)" in _output(loop["ingest"])


def test_every_lead_is_scored_once_and_a_rerun_scores_nothing(first_days):
    loop = first_days
    scored = loop["score store"]["scored_leads"]
    assert sorted(scored["lead_id"]) == sorted(loop["ingest store"]["leads"]["lead_id"])
    assert set(scored["model_version"]) == {"1"}
    assert scored["tier"].isin(["hot", "warm", "cold"]).all()
    pd.testing.assert_frame_equal(
        loop["score again store"]["scored_leads"], loop["score store"]["scored_leads"]
    )
    assert "Nothing new to score" in _output(loop["score again"])


def test_a_new_file_adds_and_scores_only_its_leads(loop):
    before = set(loop["score store"]["leads"]["lead_id"])
    after = loop["ingest new file store"]["leads"]
    added = set(after["lead_id"]) - before
    new_file = pd.read_csv(loop["project"] / "daily" / f"{DAYS[2]}_leads.csv", dtype=str)
    assert added == set(new_file["lead_id"])
    scored = loop["score new file store"]["scored_leads"]
    newly_scored = scored.loc[~scored["lead_id"].isin(before)]
    assert set(newly_scored["lead_id"]) == added
    assert len(scored) == len(after)


def test_a_drift_alert_fails_the_run_with_one_line_after_storing_the_scores(loop):
    result = loop["score new file"]
    assert result.returncode != 0
    errors = [line for line in _output(result).splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "new scores are stored" in errors[0] and "PSI" in errors[0]
    assert "Traceback" not in _output(result)
    # The call list of the scores now stored is published, and says the batch drifted.
    calls = loop["alerted call list"]
    scored = loop["score new file store"]["scored_leads"]
    this_run = scored.loc[scored["scored_at"] == scored["scored_at"].max(), "lead_id"]
    assert len(calls) >= LEADS_PER_DAY and sorted(calls["lead_id"]) == sorted(this_run)
    assert calls["alert"].str.contains("drift from the model's training data").all()


def test_outcome_files_fill_the_labels(loop):
    leads = loop["ingest new file store"]["leads"].set_index("lead_id")
    outcomes = pd.concat(
        pd.read_csv(loop["project"] / "daily" / f"{day}_outcomes.csv", dtype=str, index_col=0)
        for day in DAYS
    ).set_index("lead_id")
    assert leads["app_complete_flag"].notna().all()
    assert (leads.loc[outcomes.index, "app_complete_flag"] == outcomes.iloc[:, 0].astype(int)).all()


def test_training_from_the_store_registers_a_model(loop):
    output = _output(loop["train from store"])
    labelled = len(loop["ingest new file store"]["leads"])
    assert f"Training on {labelled} labelled leads of the store" in output
    # In the store loop a new model challenges; promote decides on realised results.
    assert "Registered lead_scoring version 2 as 'challenger': a champion exists" in output
    assert "Why challenger: a champion exists; `promote` decides on realised results" in output


def test_a_new_champion_rescores_the_recent_window(loop):
    scored = loop["score after promotion store"]["scored_leads"]
    by_new = scored.loc[scored["model_version"] == loop["champion"]]
    # Every stored lead is within 30 days of the newest: the whole store is the window.
    assert sorted(by_new["lead_id"]) == sorted(loop["ingest new file store"]["leads"]["lead_id"])
    assert "rescored after a new champion" in _output(loop["score after promotion"])
