"""Project pipelines: each key is the package that holds its nodes, and every composition is here.

raw export -> ingestion -> validation -> feature_engineering -> training -> registered model
new export -> batch_scoring (the registered model: lead_model) -> monitoring
landing files -> ingest -> the lead store -> score_new (batch_scoring's scoring and monitoring's
    drift on the stored leads, the champion then the challenger in shadow) -> promote

``train`` and ``train_from_store`` compose the learning stages bound to ``lead_model``.
The keys of the last release are kept one release as aliases (``pipeline_aliases.py``), and a run
under one logs its new name: ``inference`` runs ``batch_scoring``, ``scoring`` runs ``lead_model``.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from lead_scoring import runner
from lead_scoring.contract import REGISTERED_MODEL_NAME
from lead_scoring.pipeline_aliases import ALIASES
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

MODEL_FILE_DATASET = "lead_scoring.datasets.catboost_model_dataset"


def bound_to_model(learning: Pipeline) -> Pipeline:
    """``learning`` bound to the model's scoring core: its run logs and registers the core.

    Everything a train run does must be in ``learning``: adding to a bound pipeline afterwards
    would demote it to a plain one that logs no model. The model carries the modules its scoring
    imports, so it loads where the project is not installed.
    """
    from lead_scoring.model_code import ScoringCode

    inference = create_scoring_core()
    scoring_runner = runner.SequentialRunner()
    return pipeline_ml_factory(
        training=learning,
        inference=inference,
        input_name=lead_model.SCORING_INPUT,
        kpm_kwargs={"runner": scoring_runner},
        log_model_kwargs={
            "name": "model",
            "registered_model_name": REGISTERED_MODEL_NAME,
            # The runner and the CatBoost file's dataset are pickled with the model (the dataset
            # by its module's name: importing it here would import CatBoost on every command).
            "code_paths": [ScoringCode(inference, carried=[scoring_runner, MODEL_FILE_DATASET])],
        },
    )


def _served(stage: Pipeline, inputs: dict, outputs: dict, parameters: dict | None = None):
    """A training stage on the served leads' datasets, its nodes under lead_model's namespace."""
    return pipeline(
        stage,
        inputs=inputs,
        outputs=outputs,
        parameters=parameters,
        namespace=lead_model.NAMESPACE,
        prefix_datasets_with_namespace=False,
        tags="lead_model",
    )


def create_scoring_core() -> Pipeline:
    """What the registered model runs: raw leads through the training stages, then scored."""
    return (
        _served(
            ingestion.create_pipeline(),
            inputs={"raw_leads": lead_model.SCORING_INPUT},
            outputs={"normalised_leads": "scoring_normalised_leads"},
        )
        + _served(
            validation.create_pipeline().only_nodes("validate_raw_leads"),
            inputs={"normalised_leads": "scoring_normalised_leads"},
            outputs={
                "valid_leads": "scoring_valid_leads",
                "quarantined_leads": "scoring_quarantined_leads",
            },
            parameters={"params:training.label_required": "params:scoring.label_required"},
        )
        # The model-input contract is checked where a model learns from the same code; on
        # validated rows it would cost a served lead more than the rest of its scoring.
        + _served(
            feature_engineering.create_model_input_pipeline(checked=False),
            inputs={"valid_leads": "scoring_valid_leads"},
            outputs={"model_input": "scoring_model_input"},
        )
        + lead_model.create_pipeline().to_outputs(lead_model.SCORING_OUTPUT)
    )


def create_learning_pipeline() -> Pipeline:
    """Raw export to a measured, refit model: the stages in the order the data meets them."""
    return (
        ingestion.create_pipeline()
        + validation.create_pipeline()
        + feature_engineering.create_pipeline()
        + training.create_pipeline()
        # The scoring core phrases reasons with the level labels: checked before training.
        + lead_model.create_pipeline().only_nodes(lead_model.LABEL_CHECK)
    )


def create_store_scoring_pipeline() -> Pipeline:
    """score_new: the stored leads the champion has not scored, through batch scoring and drift
    monitoring, stored; then the challenger's due leads the same way, in shadow."""
    batch = batch_scoring.create_pipeline()
    scoring = batch.only_nodes("score_export", "count_batch")
    drift = ("load_drift_reference", "profile_scored_batch", "compare_with_reference")
    champion = pipeline(
        scoring + monitoring.create_pipeline().only_nodes(*drift),
        inputs={"new_leads": "leads_to_score"},
        outputs={
            "scored_chunks": "new_scored_chunks",
            "batch_tally": "new_scores_tally",
            "batch_profile": "new_scores_profile",
            "drift_report": "new_scores_drift",
        },
        namespace="champion",
        prefix_datasets_with_namespace=False,
    )
    challenger = pipeline(
        scoring,
        inputs={
            "new_leads": "challenger_leads_to_score",
            "scoring_model": "challenger_model",
            "scoring_model_version": "challenger_model_version",
        },
        outputs={
            "scored_chunks": "challenger_scored_chunks",
            "batch_tally": "challenger_scores_tally",
        },
        namespace="challenger",
        prefix_datasets_with_namespace=False,
    )
    model = batch.only_nodes("find_model_version", "load_scoring_model")
    return model + champion + challenger + score_new.create_pipeline()


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
    pipelines = {
        "generate": generate.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "train": train,
        "lead_model": create_scoring_core(),
        # A new export through the registered model, then its drift against its training.
        "batch_scoring": batch_scoring.create_pipeline() + monitoring.create_pipeline(),
        "reporting": reporting.create_pipeline(),
        # The lead store's loop: landing files in, new leads scored (docs/operations.md).
        "ingest": ingest.create_pipeline(),
        "score_new": create_store_scoring_pipeline(),
        "generate_daily": generate_daily.create_pipeline(),
        "train_from_store": train_on_store,
        "realised_performance": realised_performance.create_pipeline(),
        # Champion against challenger on the leads both scored, once outcomes are known.
        "promote": promote.create_pipeline(),
        "__default__": train,
    }
    return pipelines | {old: pipelines[new] for old, new in ALIASES.items()}
