"""`kedro run --pipeline=realised_performance` as a user types it, on a trained project's loop.

The trained project ingests and scores generated days, the first days' outcomes arrive, and the
run measures the champion: the store's table, the page beside the model report, the segments and
the figures on the version's own MLflow run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score

from lead_scoring.store import LeadStore
from tests.conftest import run_kedro, run_pipeline

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def measured(trained_project, tmp_path_factory) -> dict:
    project = Path(
        shutil.copytree(
            trained_project,
            tmp_path_factory.mktemp("realised") / "project",
            ignore=shutil.ignore_patterns("__pycache__", "*.log"),
        )
    )
    daily = project / "daily"
    landing = project / "data" / "01_raw" / "landing"
    landing.mkdir(parents=True)
    # Outcomes arrive 7 days after the leads were created: days 8 to 10 carry days 1 to 3's.
    # Test data, not the CLI under test: generated in this process.
    with pytest.MonkeyPatch.context() as monkeypatch:
        run_pipeline(
            project,
            "generate_daily",
            monkeypatch,
            generate_daily={"days": 10, "leads_per_day": 200, "outcome_delay_days": 7},
            landing_path=str(daily),
        )
    for path in daily.glob("*_leads.csv"):
        shutil.copy(path, landing)
    run_kedro(project, "run", "--pipeline=ingest")
    run_kedro(project, "run", "--pipeline=score_new")
    outcome_files = sorted(daily.glob("*_outcomes.csv"))
    for path in outcome_files:
        shutil.copy(path, landing)
    run_kedro(project, "run", "--pipeline=ingest")
    result = run_kedro(project, "run", "--pipeline=realised_performance")
    store = LeadStore(f"sqlite:///{project / 'data' / '03_primary' / 'lead_store.db'}")
    outcomes = sum(len(pd.read_csv(path)) for path in outcome_files)
    return {"project": project, "store": store, "result": result, "outcomes": outcomes}


def test_the_run_stores_the_champions_exact_figures_and_says_so(measured):
    store = measured["store"]
    table = store.table("realised_performance")
    # score_new recorded its scores as the champion's: the only role measured.
    assert set(table["role"]) == {"champion"}
    overall = table.loc[table["period"] == "all"].iloc[0]
    with store.engine.connect() as connection:
        scores = pd.read_sql(
            "SELECT s.probability, l.app_complete_flag FROM scored_leads s JOIN leads l "
            "ON s.lead_id = l.lead_id WHERE l.app_complete_flag IS NOT NULL",
            connection,
        )
    # Every outcome delivered, and only those: the leads of the days whose outcomes arrived.
    assert overall["labelled_leads"] == len(scores) == measured["outcomes"] > 0
    assert overall["roc_auc"] == roc_auc_score(scores["app_complete_flag"], scores["probability"])
    summary = measured["result"].stdout
    assert " realised_performance run summary " in summary
    assert f"ROC AUC {overall['roc_auc']:.3f}" in summary
    assert "Traceback" not in measured["result"].stdout + measured["result"].stderr


def test_the_figures_sit_on_the_versions_run_next_to_its_holdout(measured):
    project = measured["project"]
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    run_id = client.get_model_version("lead_scoring", "1").run_id
    metrics = client.get_run(run_id).data.metrics
    table = measured["store"].table("realised_performance")
    overall = table.loc[table["period"] == "all"].iloc[0]
    assert metrics["realised.champion.all.roc_auc"] == overall["roc_auc"]
    assert "holdout.roc_auc" in metrics


def test_the_page_and_segments_are_linked_from_the_model_report(measured):
    reporting = measured["project"] / "data" / "08_reporting"
    page = (reporting / "realised_performance.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert 'href="realised_performance.html"' in (reporting / "model_report.html").read_text()
    segments = pd.read_csv(reporting / "segments.csv")
    # The holdout side comes from the train run's logged segments, the realised side from the store.
    assert segments["holdout_leads"].sum() > 0 and segments["realised_leads"].sum() > 0
