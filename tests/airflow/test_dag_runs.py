"""`airflow dags test` of each DAG on a copy of the project, as the scheduler would run them.

One fresh copy goes through the loop once: daily exports and their outcomes land, the ingest DAG
stores them, the train DAG trains on the store (its model the first champion), the score DAG
scores every lead with it and, its drift alert levels lowered so that it alerts, requests a
retrain through the asset; a broken export stops the ingest DAG without retries; a day later a
second alert falls within the cooldown. Airflow runs in a temporary AIRFLOW_HOME whose DAG
folder is the copy's, from outside the project. The realised_performance and promote tasks are
marked done without running (`--mark-success-pattern`): their pipelines have their own tests.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from lead_scoring.datasets import LeadStore
from tests.airflow.conftest import DAGS_FOLDER, run_airflow
from tests.conftest import copy_project, daily_exports, run_pipeline

# Seven Airflow processes, each importing Airflow, five of them Kedro and MLflow too.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

LEADS_PER_DAY = 300
DAYS = 3
NOT_RUN_HERE = "^(realised_performance|promote)$"


def _tables(project: Path) -> dict[str, pd.DataFrame]:
    store = LeadStore(f"sqlite:///{project / 'data' / '03_primary' / 'lead_store.db'}")
    return {name: store.table(name) for name in ("leads", "scored_leads", "ingest_log")}


def _mlflow(project: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def _mlflow_run_ids(project: Path) -> set[str]:
    if not (project / "mlflow.db").exists():
        return set()
    experiment = _mlflow(project).get_experiment_by_name("lead_scoring")
    if experiment is None:
        return set()
    return {run.info.run_id for run in _mlflow(project).search_runs([experiment.experiment_id])}


def _airflow_db(home: Path) -> dict:
    """What Airflow recorded: each task's state and tries, the retrain requests, what they queued."""
    with sqlite3.connect(home / "airflow.db") as db:
        tasks = db.execute(
            "SELECT dag_id, run_id, task_id, state, try_number FROM task_instance"
        ).fetchall()
        events = db.execute("SELECT source_dag_id, extra FROM asset_event ORDER BY id").fetchall()
        queued = db.execute("SELECT target_dag_id FROM asset_dag_run_queue").fetchall()
    return {"tasks": tasks, "events": events, "queued": [dag for (dag,) in queued]}


def _lower_the_alert_levels(project: Path) -> None:
    # Every judged feature "drifts", and a day's batch is judged: each scoring run alerts.
    for name, section, changes in (
        ("score_new", "score_new", {"drift_alert": {"feature_psi": -1.0}}),
        ("monitoring", "monitoring", {"min_batch_rows": 100}),
    ):
        base = yaml.safe_load((project / "conf" / "base" / f"parameters_{name}.yml").read_text())
        for key, value in changes.items():
            merged = value if not isinstance(value, dict) else {**base[section][key], **value}
            base[section][key] = merged
        (project / "conf" / "local" / f"parameters_{name}.yml").write_text(yaml.safe_dump(base))


@pytest.fixture(scope="module")
def loop(tmp_path_factory) -> dict:
    """What each `airflow dags test` printed and took, and the store, MLflow and Airflow after it."""
    project = copy_project(tmp_path_factory.mktemp("airflow_loop"))
    shutil.copytree(DAGS_FOLDER, project / "airflow_dags")
    daily = project / "daily"
    landing = project / "data" / "01_raw" / "landing"
    landing.mkdir(parents=True)
    # Every day's outcomes the same day: the train DAG finds labelled leads at once.
    daily_exports(project, daily, days=DAYS + 1, leads_per_day=LEADS_PER_DAY, vary_volume=False)
    *first_days, next_day = sorted(daily.glob("*_leads.csv"))
    for export in [*first_days, *sorted(daily.glob("*_outcomes.csv"))[:DAYS]]:
        shutil.copy(export, landing)

    home = tmp_path_factory.mktemp("airflow_home")
    dags_folder = project / "airflow_dags"
    run_airflow(home, "db", "migrate", dags_folder=dags_folder)

    delivered = pd.concat(pd.read_csv(path, dtype=str, index_col=0) for path in first_days)
    steps: dict = {"project": project, "delivered": delivered, "home": home}

    def dags_test(name: str, dag_id: str, check: bool = True) -> None:
        started = time.perf_counter()
        steps[name] = run_airflow(
            home, "dags", "test", dag_id, "--mark-success-pattern", NOT_RUN_HERE,
            dags_folder=dags_folder, check=check,
        )  # fmt: skip
        steps[f"{name} seconds"] = time.perf_counter() - started
        steps[f"{name} store"] = _tables(project)
        steps[f"{name} runs"] = _mlflow_run_ids(project)
        steps[f"{name} airflow"] = _airflow_db(home)

    dags_test("ingest", "lead_scoring_ingest")
    # `dags test` wrote every DAG of the folder to Airflow's database, as the DAG processor does
    # (no `dags reserialize` process needed); the train DAG is switched on so that a request
    # queues a run of it (Airflow drops the requests to a paused DAG).
    run_airflow(home, "dags", "unpause", "lead_scoring_train", dags_folder=dags_folder)
    dags_test("train", "lead_scoring_train")
    steps["champion"] = _mlflow(project).get_model_version_by_alias("lead_scoring", "champion")
    _lower_the_alert_levels(project)
    dags_test("score", "lead_scoring_score", check=False)
    # A delivery with a row cut short, as a writer killed mid-row leaves it: a validation stop.
    lines = next_day.read_text().splitlines()
    lines[5] = ",".join(lines[5].split(",")[:3])
    broken = landing / "9999-12-31_leads.csv"
    broken.write_text("\n".join(lines) + "\n")
    dags_test("broken ingest", "lead_scoring_ingest", check=False)
    broken.unlink()
    shutil.copy(next_day, landing)
    # The next day's leads, for the second alert: the ingest DAG's behaviour is tested above,
    # so the ingest pipeline stores them in this process, without an Airflow process.
    with pytest.MonkeyPatch.context() as monkeypatch:
        run_pipeline(project, "ingest", monkeypatch)
    steps["next ingest store"] = _tables(project)
    dags_test("next score", "lead_scoring_score", check=False)
    print({k: round(v, 1) for k, v in steps.items() if k.endswith("seconds")})
    return steps


def _output(result) -> str:
    return result.stdout + result.stderr


def _states(loop: dict, step: str, dag_id: str) -> dict[str, tuple[str, int]]:
    """Each task's state and try number in the newest run of ``dag_id`` after ``step``."""
    tasks = [row for row in loop[f"{step} airflow"]["tasks"] if row[0] == dag_id]
    newest = max(run_id for _, run_id, *_ in tasks)
    return {task: (state, tries) for _, run_id, task, state, tries in tasks if run_id == newest}


def test_the_ingest_dag_stores_every_lead_once(loop):
    leads = loop["ingest store"]["leads"]
    assert len(loop["delivered"]) == DAYS * LEADS_PER_DAY
    assert sorted(leads["lead_id"]) == sorted(loop["delivered"]["lead_id"])
    # The outcome files landed with the leads: every lead is labelled for the monthly retrain.
    assert leads["app_complete_flag"].notna().all()
    assert len(loop["ingest store"]["ingest_log"]) == 2 * DAYS
    # Nothing alerted: no retrain requested, and the alert task had nothing to say.
    states = _states(loop, "ingest", "lead_scoring_ingest")
    assert states["request_retrain"][0] == states["alert"][0] == "skipped"
    assert loop["ingest airflow"]["events"] == []


def test_the_train_dag_is_one_mlflow_run_on_the_stored_leads(loop):
    assert loop["ingest runs"] == set()
    # The whole training, model and report, in one run: the champion's.
    assert loop["train runs"] == {loop["champion"].run_id}
    output = _output(loop["train"])
    assert f"Training on {len(loop['delivered'])} labelled leads of the store" in output
    assert "Registered lead_scoring version 1 as 'champion'" in output


def test_the_score_dag_scores_every_stored_lead_once_with_the_champion(loop):
    scored = loop["score store"]["scored_leads"]
    stored = loop["score store"]["leads"]
    assert sorted(scored["lead_id"]) == sorted(stored["lead_id"])
    assert set(scored["model_version"]) == {str(loop["champion"].version)}
    assert scored["tier"].isin(["hot", "warm", "cold"]).all()


def test_a_drift_alert_requests_a_retrain_through_the_asset_then_fails_the_run(loop):
    states = _states(loop, "score", "lead_scoring_score")
    # The scores are stored and the run's task succeeded: the alert is not a retried failure.
    assert states["score_new"] == ("success", 1)
    assert states["request_retrain"][0] == "success"
    assert states["alert"] == ("failed", 1)
    ((source, extra),) = loop["score airflow"]["events"]
    assert source == "lead_scoring_score"
    assert (
        "drift from the model's training data past the alert levels" in json.loads(extra)["reason"]
    )
    # The asset queued a run of the training DAG, the one scheduled on it, and no other.
    assert loop["score airflow"]["queued"] == ["lead_scoring_train"]
    assert "drift from the model's training data" in _output(loop["score"])


def test_a_second_alert_within_the_cooldown_requests_no_second_retrain(loop):
    assert len(loop["next ingest store"]["leads"]) > len(loop["delivered"])
    states = _states(loop, "next score", "lead_scoring_score")
    assert states["score_new"][0] == "success"
    assert states["request_retrain"][0] == "skipped"
    assert states["alert"][0] == "failed"
    assert len(loop["next score airflow"]["events"]) == 1
    assert "within the 7-day cooldown" in _output(loop["next score"])


def test_a_validation_stop_fails_the_task_at_once_with_its_line_first(loop):
    result = loop["broken ingest"]
    output = _output(result)
    assert result.returncode != 0
    states = _states(loop, "broken ingest", "lead_scoring_ingest")
    # Failed on its first try, not up for retry; the run counts as failed.
    assert states["ingest"] == ("failed", 1)
    assert "up_for_retry" not in output.lower()
    assert "DagRun failed" in output
    # The project's line, naming the file and the line, comes before Airflow's traceback.
    stop = output.index("ERROR   lead_scoring.airflow_tasks:")
    failed = output.index("Task failed with exception")
    assert stop < failed < output.index("Traceback", failed)
    line = " ".join(output[stop:failed].splitlines()[:4])
    assert "9999-12-31_leads.csv' line 6 has 3 field(s)" in line
    # Nothing of the broken file reached the store: the ingest log records it refused.
    for name in ("leads", "scored_leads"):
        pd.testing.assert_frame_equal(loop["broken ingest store"][name], loop["score store"][name])
    log = loop["broken ingest store"]["ingest_log"]
    refused = log.loc[log["source_file"] == "9999-12-31_leads.csv"]
    assert refused["status"].tolist() == ["refused"] and refused["leads_new"].tolist() == [0]
