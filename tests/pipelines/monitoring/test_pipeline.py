"""Monitoring wiring: the reference joins training, and inference finds it from the model."""

from __future__ import annotations

import json
import logging

from lead_scoring.pipeline_registry import register_pipelines
from lead_scoring.pipelines import batch_scoring
from lead_scoring.pipelines.batch_scoring.nodes import find_model_version
from lead_scoring.pipelines.monitoring import create_pipeline, create_reference_pipeline
from lead_scoring.pipelines.monitoring.nodes import load_drift_reference
from tests.pipelines.batch_scoring.conftest import tracking_store

PARAMS = {"reference_artifact": "drift_reference.json"}


def test_the_reference_is_built_from_training_outputs_only():
    reference = create_reference_pipeline()
    assert reference.outputs() == {"drift_reference"}
    training = register_pipelines()["train"]
    assert reference.inputs() - {"params:monitoring"} <= training.all_outputs() | {
        "interaction_mapping"
    }


def test_monitoring_reads_what_scoring_wrote_and_scoring_never_waits_for_it():
    monitoring = create_pipeline()
    # The scored chunks carry the model input: monitoring rebuilds no feature.
    assert monitoring.inputs() == {"scored_chunks", "scoring_model_version", "params:monitoring"}
    batch = batch_scoring.create_pipeline()
    assert not batch.inputs() & monitoring.all_outputs()


def test_the_train_pipeline_stays_a_model_bound_pipeline():
    train = register_pipelines()["train"]
    assert hasattr(train, "inference")  # still a PipelineML: it logs and registers the model
    assert "build_drift_reference" in {node.name for node in train.nodes}


def test_monitoring_writes_history_plot_and_metrics():
    outputs = create_pipeline().all_outputs()
    expected = {
        "drift_history",
        "drift_plot",
        "drift_metrics_mlflow",
        "drift_report",
        "drift_alerts",
    }
    assert expected <= outputs


def test_the_reference_is_found_from_the_model_version(trained_project):
    with tracking_store(trained_project):
        version = find_model_version({"name": "lead_scoring", "alias": "champion", "version": None})
        reference = load_drift_reference(version, PARAMS)
    local = json.loads(
        (trained_project / "data" / "08_reporting" / "drift_reference.json").read_text()
    )
    assert reference == local


def test_a_model_without_reference_is_scored_unmonitored(trained_project, caplog):
    with tracking_store(trained_project):
        version = find_model_version({"name": "lead_scoring", "alias": "champion", "version": None})
        with caplog.at_level(logging.WARNING):
            reference = load_drift_reference(version, {"reference_artifact": "nothing.json"})
    assert reference == {}
    assert "drift monitoring is skipped" in caplog.text
