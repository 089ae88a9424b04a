"""Project pipelines: the flow from a raw export to a scored lead, read top to bottom.

raw export -> ingestion -> validation -> feature engineering -> training -> registered model
new export -> the registered model (the same ingestion, validation and features, then the score)
           -> scored leads, quarantine, call list -> drift monitoring

``lead_model`` is the model's inside, the scoring core the registered model carries and runs
(key ``scoring``); ``batch_scoring`` is the batch job that feeds it an export (key
``inference``, the name users type).
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from lead_scoring import runner
from lead_scoring.contract import REGISTERED_MODEL_NAME
from lead_scoring.pipelines import (
    batch_scoring,
    feature_engineering,
    generate,
    generate_daily,
    ingest,
    ingestion,
    lead_model,
    monitoring,
    promote,
    realised_performance,
    reporting,
    score_new,
    train_from_store,
    training,
    validation,
)
from lead_scoring.tracking import output_signature


def bound_to_model(learning: Pipeline) -> Pipeline:
    """``learning`` bound to the model's scoring core: its run logs and registers the core.

    Everything a train run does must be in ``learning``: adding to a bound pipeline afterwards
    would demote it to a plain one that logs no model. The model carries the modules its scoring
    imports, so it loads where the project is not installed.
    """
    from lead_scoring.datasets import CatBoostModelDataset
    from lead_scoring.model_code import ScoringCode

    inference = lead_model.create_pipeline()
    scoring_runner = runner.SequentialRunner()
    return pipeline_ml_factory(
        training=learning,
        inference=inference,
        input_name=lead_model.SCORING_INPUT,
        kpm_kwargs={"runner": scoring_runner},
        log_model_kwargs={
            "name": "model",
            "registered_model_name": REGISTERED_MODEL_NAME,
            # The runner and the CatBoost file's dataset are pickled with the model.
            "code_paths": [ScoringCode(inference, carried=[scoring_runner, CatBoostModelDataset])],
            "signature": output_signature(),
        },
    )


def create_learning_pipeline() -> Pipeline:
    """Raw export to a measured, refit model: the stages in the order the data meets them."""
    return (
        ingestion.create_pipeline()
        + validation.create_pipeline()
        + feature_engineering.create_pipeline()
        + training.create_pipeline()
        # The scoring core phrases reasons with the level labels: checked before training.
        + lead_model.create_label_check_pipeline()
    )


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines."""
    # Logged to the same MLflow run as the model: its report and its drift reference.
    learning = (
        create_learning_pipeline()
        + reporting.create_pipeline()
        + monitoring.create_reference_pipeline()
    )
    train = bound_to_model(learning)
    # The monthly retrain: the same training on the store's labelled leads of the window.
    train_on_store = bound_to_model(
        train_from_store.create_pipeline()
        + pipeline(learning, inputs={"raw_leads": train_from_store.STORE_RAW_LEADS})
    )
    # A new export through the registered model, then its drift against the model's training.
    batch = batch_scoring.create_pipeline() + monitoring.create_pipeline()
    # The lead store's loop: stored leads the champion has not scored, the same model and drift.
    loop_scoring = (
        batch_scoring.create_model_pipeline()
        + monitoring.create_reference_loading_pipeline()
        + score_new.create_pipeline()
    )
    return {
        "generate": generate.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "train": train,
        "scoring": lead_model.create_pipeline(),
        "inference": batch,
        "reporting": reporting.create_pipeline(),
        # The lead store's loop: landing files in, new leads scored (docs/operations.md).
        "ingest": ingest.create_pipeline(),
        "score_new": loop_scoring,
        "generate_daily": generate_daily.create_pipeline(),
        "train_from_store": train_on_store,
        "realised_performance": realised_performance.create_pipeline(),
        # Champion against challenger on the leads both scored, once outcomes are known.
        "promote": promote.create_pipeline(),
        "__default__": train,
    }
