"""The reports of a real `kedro run --pipeline=train`: files, numbers, and the MLflow run."""

from __future__ import annotations

import base64
import json
import shutil

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.hooks import report_stamp
from lead_scoring.pipelines.reporting.html import PLOTS
from tests.conftest import run_kedro
from tests.pipelines.reporting.test_html import EMBEDDED_PNG, assert_self_contained

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reporting(trained_project):
    return trained_project / "data" / "08_reporting"


def read_json(path) -> dict:
    return json.loads(path.read_text())


def test_model_report_embeds_the_logged_plots_and_this_runs_numbers(reporting, trained_project):
    page = (reporting / "model_report.html").read_text()
    assert_self_contained(page)
    images = dict(EMBEDDED_PNG.findall(page))
    assert len(images) == len(PLOTS)
    for key, title, _ in PLOTS:
        # The very PNG that was saved (and logged to MLflow), not a redrawing of it.
        assert base64.b64decode(images[title]) == (reporting / "plots" / f"{key}.png").read_bytes()

    metrics = read_json(reporting / "holdout_metrics.json")
    validation = read_json(trained_project / "data" / "02_intermediate" / "validation_summary.json")
    run = read_json(reporting / "mlflow_run.json")
    assert f"{metrics['roc_auc']:.3f}" in page
    assert f"{metrics['baseline_roc_auc']:.4f}" in page
    assert f"{metrics['brier']:.4f}" in page
    assert f"{validation['rows_read']:,}" in page
    assert f"{validation['duplicates_removed']:,}" in page
    assert run["run_id"] in page and run["experiment_id"] in page
    assert "raw_data_profile.html" in page
    registered = read_json(trained_project / "data" / "06_models" / "registered_model.json")
    assert f"{registered['leads']:,} leads up to {registered['newest_lead']}" in page
    backtest = pd.read_csv(reporting / "backtest.csv")
    assert all(f"{auc:.4f}" in page for auc in backtest["roc_auc"])


def test_decile_table_adds_up_to_the_holdout(reporting, trained_project):
    table = pd.read_csv(reporting / "decile_table.csv")
    predictions = pd.read_parquet(
        trained_project / "data" / "07_model_output" / "holdout_predictions.parquet"
    )
    assert table["leads"].sum() == len(predictions)
    assert table["leads"].max() - table["leads"].min() <= 1
    assert table["completers"].sum() == predictions["app_complete_flag"].sum()
    assert table["cumulative_completers_share"].iloc[-1] == pytest.approx(1.0)
    assert table["lift"].iloc[0] > 1 > table["lift"].iloc[-1]


def test_business_summary_agrees_with_the_holdout_metrics(reporting):
    summary = read_json(reporting / "business_summary.json")
    metrics = read_json(reporting / "holdout_metrics.json")
    assert summary["leads"] == metrics["leads"]
    assert summary["cold_completers_lost_share"] == pytest.approx(metrics["cold_completers_lost"])
    assert summary["calls_saved_per_1000_leads"] == pytest.approx(1000 * metrics["share_cold"])
    assert summary["tiers"]["hot"]["completion_rate"] == pytest.approx(metrics["hot_precision"])
    text = (reporting / "business_summary.md").read_text()
    assert f"saves a rep {summary['calls_saved_per_1000_leads']:.0f} calls per 1,000 leads" in text


def test_raw_data_profile_describes_the_training_export(reporting, trained_project):
    page = (reporting / "raw_data_profile.html").read_text()
    assert_self_contained(page)
    profile = read_json(reporting / "raw_data_profile.json")
    validation = read_json(trained_project / "data" / "02_intermediate" / "validation_summary.json")
    assert profile["rows"] == validation["rows_read"]
    kinds = {column["column"]: column["kind"] for column in profile["columns"]}
    assert kinds["created_date"].startswith("timestamp")
    assert kinds["first_platform_c"] == "level (LevelN)"
    assert len(kinds) == 45  # 7 origin columns, 37 interaction columns and the label
    assert f"{profile['rows']:,} rows of the export" in page


def test_reports_are_logged_to_the_train_run_that_registers_the_model(reporting, trained_project):
    client = MlflowClient(tracking_uri=f"sqlite:///{trained_project / 'mlflow.db'}")
    run_id = read_json(reporting / "mlflow_run.json")["run_id"]
    metrics = client.get_run(run_id).data.metrics
    assert {"holdout.roc_auc", "business.calls_saved_per_1000_leads"} <= set(metrics)
    # Realised tier promises, what the registered model saw, and the monthly backtest.
    assert {
        "holdout.hot_precision",
        "holdout.hot_precision_target",
        "holdout.cold_completers_lost",
        "holdout.cold_completers_lost_target",
        "registered.leads",
        "registered.trees",
    } <= set(metrics)
    assert any(name.startswith("backtest.backtest_") for name in metrics)
    artifacts = {item.path for item in client.list_artifacts(run_id, "reporting")}
    assert {
        "reporting/model_report.html",
        "reporting/raw_data_profile.html",
        "reporting/decile_table.csv",
        "reporting/feature_importance.csv",
        "reporting/business_summary.md",
        "reporting/backtest.csv",
        "reporting/holdout_segments.csv",
    } <= artifacts
    plots = {item.path for item in client.list_artifacts(run_id, "reporting/plots")}
    assert plots == {f"reporting/plots/{key}.png" for key, _, _ in PLOTS}
    (version,) = client.search_model_versions(f"name='lead_scoring' and run_id='{run_id}'")
    assert version.run_id == run_id


def test_the_reporting_pipeline_alone_redraws_the_reports_from_the_saved_outputs(
    trained_project, tmp_path
):
    # A copy: the redrawn report names the reporting run, which the tests above must not see.
    project = shutil.copytree(trained_project, tmp_path / "project")
    reporting = project / "data" / "08_reporting"
    train_run = read_json(reporting / "mlflow_run.json")["run_id"]
    stamp = report_stamp(reporting / "model_report.html")
    (reporting / "feature_importance.csv").unlink()

    result = run_kedro(project, "run", "--pipeline=reporting")

    assert " reporting run summary " in result.stdout
    run = read_json(reporting / "mlflow_run.json")["run_id"]
    page = (reporting / "model_report.html").read_text()
    assert run != train_run and run in page
    # What the model was trained on, and which version it is, still opens the report.
    assert stamp and "Trained on the default export" in stamp
    assert report_stamp(reporting / "model_report.html") == stamp
    # The SHAP importance needs the model measured on the holdout, kept by the train run.
    importance = pd.read_csv(reporting / "feature_importance.csv")
    assert len(importance) > 0
