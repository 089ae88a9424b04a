"""What the MLflow UI is told about a run: its name, the experiment's kind, the model and its data."""

from __future__ import annotations

import json

import pytest
from mlflow.artifacts import download_artifacts
from mlflow.models import Model
from mlflow.tracking import MlflowClient

from lead_scoring.hooks import training_source


def test_a_train_run_names_its_export_and_train_from_store_the_store_file():
    store = "sqlite:////srv/project/data/03_primary/lead_store.db"
    assert training_source(["train"], "/exports/mine.csv", store) == "/exports/mine.csv"
    assert training_source(["train_from_store"], None, store) == (
        "/srv/project/data/03_primary/lead_store.db"
    )
    # A server database is no file MLflow can name: no dataset rather than a wrong one.
    server = "postgresql+psycopg://scoring@db.example.com:5432/leads"
    assert training_source(["train_from_store"], "/exports/mine.csv", server) is None


@pytest.mark.slow
def test_a_train_run_is_described_for_the_ui_by_configuration(trained_project, tmp_path):
    store = f"sqlite:///{trained_project / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("lead_scoring")
    # conf/base/mlflow.yml: the "Machine learning" kind and the shared view of the metrics.
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    view = json.loads(experiment.tags["mlflow.sharedViewState.metrics"])
    assert "metrics.`holdout.roc_auc`" in view["selectedColumns"]
    (run,) = client.search_runs([experiment.experiment_id], "attributes.run_name = 'train'")
    (training,) = run.inputs.dataset_inputs
    assert json.loads(training.dataset.source)["uri"] == "data/01_raw/leads.csv"
    # The registered model: the output signature only, and one complete raw lead as example.
    location = client.get_model_version_download_uri("lead_scoring", "1")
    path = download_artifacts(artifact_uri=location, dst_path=str(tmp_path))
    model = Model.load(path)
    assert model.signature.inputs is None
    assert "tier" in model.signature.outputs.input_names()
    example = model.load_input_example(path)
    assert example.loc[0, "city_mapped"] == "pune" and "download_button_clicked" in example
