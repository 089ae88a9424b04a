"""`kedro run --pipeline=train` as a user runs it: a tracked run, a registered model, clear errors.

A retrain's comparison with the champion is tested on the retrain that
tests/reliability/test_runs_and_store.py runs beside a scoring run: one train process fewer.
"""

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import copy_project, run_kedro

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(trained_project):
    uri = f"sqlite:///{trained_project / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(None)


def test_train_prints_the_holdout_metrics(trained_project):
    log = (trained_project / "train_run.log").read_text()
    assert "Holdout: ROC AUC" in log
    assert "Registered lead_scoring version 1 as 'champion': there was no champion yet" in log


def test_the_run_logs_parameters_metrics_and_artifacts(client, parameters):
    experiment = client.get_experiment_by_name("lead_scoring")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert 0.6 < metrics["holdout.roc_auc"] <= 1
    assert {"holdout.pr_auc", "holdout.brier", "holdout.baseline_roc_auc", "data.rows_read"} <= set(
        metrics
    )
    depth = parameters["training"]["catboost"]["depth"]
    assert run.data.params["training.catboost.depth"] == str(depth)
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"tier_cuts.json", "category_vocabulary.json", "holdout_metrics.json"} <= artifacts


def test_the_registered_champion_scores_raw_leads(client, small_export):
    version = client.get_model_version_by_alias("lead_scoring", "champion")
    assert str(version.version) == "1"
    model = mlflow.pyfunc.load_model("models:/lead_scoring@champion")
    raw = pd.read_csv(small_export, dtype=str).head(50).drop(columns="app_complete_flag")
    scores = model.predict(raw)
    assert scores["lead_id"].tolist() == raw["Unnamed: 0"].tolist()
    assert scores["probability"].between(0, 1).all()
    assert set(scores["tier"]) <= {"hot", "warm", "cold"}
    assert scores["reason_1"].str.endswith(("raises the score.", "lowers the score.")).all()


def test_a_missing_column_stops_the_run_with_one_clear_line(tmp_path, small_export):
    project = copy_project(tmp_path / "project")
    broken = project / "data" / "01_raw" / "broken.csv"
    pd.read_csv(small_export, dtype=str).drop(columns=["referred_lead"]).to_csv(broken, index=False)
    result = run_kedro(
        project, "run", "--pipeline=train", f"--params=raw_leads_path={broken}", check=False
    )
    assert result.returncode != 0
    assert "Error: The lead export lacks 1 required column(s): referred_lead." in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    written = [
        p for p in (project / "data").rglob("*") if p.is_file() and p.parent.name != "reference"
    ]
    assert written == [broken]
