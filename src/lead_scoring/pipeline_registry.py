"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from lead_scoring.pipelines import ingestion, scoring, training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines."""
    train = training.pipeline.create_train_pipeline()
    return {

        "ingestion": ingestion.create_pipeline(),
        "train": train,
        "scoring": scoring.create_pipeline(),
        "__default__": train,
    }
