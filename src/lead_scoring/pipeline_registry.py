"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from lead_scoring.pipelines import (
    generate,
    generate_daily,
    inference,
    ingest,
    ingestion,
    monitoring,
    reporting,
    score_new,
    scoring,
    train_from_store,
    training,
)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines."""
    # Reporting and the monitoring reference run inside the model-bound training pipeline, so one
    # `kedro run --pipeline=train` logs them to the same MLflow run as the model.
    train = training.create_train_pipeline(
        monitoring.create_reference_pipeline(), reporting.create_pipeline()
    )
    # The monthly retrain: the same training on the store's labelled leads of the window.
    train_on_store = training.create_train_pipeline(
        train_from_store.create_pipeline(),
        monitoring.create_reference_pipeline(),
        reporting.create_pipeline(),
        raw_leads=train_from_store.pipeline.STORE_RAW_LEADS,
    )
    return {
        "generate": generate.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "train": train,
        "scoring": scoring.create_pipeline(),
        # A new export through the registered model, then its drift against the model's training.
        "inference": inference.create_pipeline() + monitoring.create_pipeline(),
        "reporting": reporting.create_pipeline(),
        # The lead store's loop: landing files in, new leads scored (docs/operations.md).
        "ingest": ingest.create_pipeline(),
        "score_new": inference.create_model_pipeline()
        + monitoring.create_reference_loading_pipeline()
        + score_new.create_pipeline(),
        "generate_daily": generate_daily.create_pipeline(),
        "train_from_store": train_on_store,
        "__default__": train,
    }
