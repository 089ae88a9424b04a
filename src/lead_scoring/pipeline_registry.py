"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from lead_scoring.pipelines import (
    generate,
    inference,
    ingestion,
    monitoring,
    reporting,
    scoring,
    training,
)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines."""
    # Reporting and the monitoring reference run inside the model-bound training pipeline, so one
    # `kedro run --pipeline=train` logs them to the same MLflow run as the model.
    train = training.create_train_pipeline(
        monitoring.create_reference_pipeline(), reporting.create_pipeline()
    )
    return {
        "generate": generate.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "train": train,
        "scoring": scoring.create_pipeline(),
        "inference": inference.create_pipeline(),
        "reporting": reporting.create_pipeline(),
        "__default__": train,
    }
