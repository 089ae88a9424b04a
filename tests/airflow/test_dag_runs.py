"""`airflow dags test` of each DAG on a copy of the project, as the scheduler would run them.

One fresh copy goes through the loop once: daily exports and their outcomes land, the ingest DAG
stores them, the train DAG trains on the store (its model the first champion), the score DAG
scores every lead with it, and a broken export stops the ingest DAG without retries. Airflow runs
in a temporary AIRFLOW_HOME whose DAG folder is the copy's, from outside the project.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.datasets import LeadStore
from lead_scoring.local_airflow import config_text
from tests.airflow.conftest import DAGS_FOLDER, run_airflow
from tests.conftest import copy_project, run_kedro

# Four Airflow processes, each importing Airflow, Kedro and MLflow: 3.5 min of CPU (measured).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

LEADS_PER_DAY = 300
DAYS = 3


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


@pytest.fixture(scope="module")
def loop(tmp_path_factory) -> dict:
    """What each `airflow dags test` printed and took, and the store and MLflow runs after it."""
    project = copy_project(tmp_path_factory.mktemp("airflow_loop"))
    shutil.copytree(DAGS_FOLDER, project / "airflow_dags")
    daily = project / "daily"
    landing = project / "data" / "01_raw" / "landing"
    landing.mkdir(parents=True)
    # Every day's outcomes the same day: the train DAG finds labelled leads at once.
    run_kedro(
        project,
        "run",
        "--pipeline=generate_daily",
        f"--params=generate_daily.days={DAYS},generate_daily.leads_per_day={LEADS_PER_DAY},"
        f"generate_daily.outcome_delay_days=0,landing_path={daily}",
    )
    for export in daily.glob("*.csv"):
        shutil.copy(export, landing)

    home = tmp_path_factory.mktemp("airflow_home")
    (home / "airflow.cfg").write_text(config_text(home, project / "airflow_dags"))
    run_airflow(home, "db", "migrate")

    steps: dict = {"project": project, "daily": daily}

    def dags_test(name: str, dag_id: str, check: bool = True) -> None:
        started = time.perf_counter()
        steps[name] = run_airflow(home, "dags", "test", dag_id, check=check)
        steps[f"{name} seconds"] = time.perf_counter() - started
        steps[f"{name} store"] = _tables(project)
        steps[f"{name} runs"] = _mlflow_run_ids(project)

    dags_test("ingest", "lead_scoring_ingest")
    dags_test("train", "lead_scoring_train")
    steps["champion"] = _mlflow(project).get_model_version_by_alias("lead_scoring", "champion")
    dags_test("score", "lead_scoring_score")
    # A delivery without one of the columns the model needs: a validation stop.
    broken = pd.read_csv(next(daily.glob("*_leads.csv")), dtype=str)
    broken.drop(columns=["city_mapped"]).to_csv(landing / "9999-12-31_leads.csv", index=False)
    dags_test("broken ingest", "lead_scoring_ingest", check=False)
    print({k: round(v, 1) for k, v in steps.items() if k.endswith("seconds")})
    return steps


def _output(result) -> str:
    return result.stdout + result.stderr


def test_the_ingest_dag_stores_every_lead_once(loop):
    leads = loop["ingest store"]["leads"]
    delivered = pd.concat(
        pd.read_csv(path, dtype=str, index_col=0) for path in loop["daily"].glob("*_leads.csv")
    )
    assert len(delivered) == DAYS * LEADS_PER_DAY
    assert sorted(leads["lead_id"]) == sorted(delivered["lead_id"])
    # The outcome files landed with the leads: every lead is labelled for the monthly retrain.
    assert leads["app_complete_flag"].notna().all()
    assert len(loop["ingest store"]["ingest_log"]) == 2 * DAYS


def test_the_train_dag_is_one_mlflow_run_on_the_stored_leads(loop):
    assert loop["ingest runs"] == set()
    # The whole training, model and report, in one run: the champion's.
    assert loop["train runs"] == {loop["champion"].run_id}
    output = _output(loop["train"])
    assert f"Training on {DAYS * LEADS_PER_DAY} labelled leads of the store" in output
    assert "Registered lead_scoring version 1 as 'champion'" in output


def test_the_score_dag_scores_every_stored_lead_once_with_the_champion(loop):
    scored = loop["score store"]["scored_leads"]
    stored = loop["score store"]["leads"]
    assert sorted(scored["lead_id"]) == sorted(stored["lead_id"])
    assert set(scored["model_version"]) == {str(loop["champion"].version)}
    assert scored["tier"].isin(["hot", "warm", "cold"]).all()


def test_a_validation_stop_fails_the_task_at_once_without_retries(loop):
    result = loop["broken ingest"]
    output = _output(result)
    assert result.returncode != 0
    assert "Landing file 9999-12-31_leads.csv" in output and "city_mapped" in output
    assert "AirflowFailException" in output
    assert "up_for_retry" not in output.lower()
    # Nothing of the broken run reached the store.
    for name, table in loop["broken ingest store"].items():
        pd.testing.assert_frame_equal(table, loop["score store"][name])
