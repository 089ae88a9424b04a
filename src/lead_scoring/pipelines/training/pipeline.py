"""Training: temporal split, CatBoost and baseline, tier cuts, holdout metrics.

``create_train_pipeline`` binds the whole training flow to the scoring core with
``pipeline_ml_factory``, so every train run logs and registers the scoring pipeline as one model.
"""

from pathlib import Path

from kedro.pipeline import Node, Pipeline, pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from lead_scoring import runner
from lead_scoring.pipelines import feature_engineering, ingestion, scoring, validation
from lead_scoring.pipelines.training.nodes import (
    evaluate_holdout,
    fit_logistic_baseline,
    fit_tier_cuts,
    predict_holdout,
    split_by_time,
    split_train_validation,
    train_catboost,
)

REGISTERED_MODEL_NAME = "lead_scoring"
_PACKAGE_DIR = Path(__file__).resolve().parents[2]


def create_pipeline(**kwargs) -> Pipeline:
    """Fit the model and the baseline on the fitting rows and measure them on the holdout."""
    return Pipeline(
        [
            Node(
                split_by_time,
                inputs=["clean_leads", "params:training"],
                outputs=["fit_leads", "holdout_leads"],
                name="split_by_time",
            ),
            Node(
                split_train_validation,
                inputs=["model_input_fit", "params:training"],
                outputs=["model_input_train", "model_input_validation"],
                name="split_train_validation",
            ),
            Node(
                train_catboost,
                inputs=[
                    "model_input_train",
                    "model_input_validation",
                    "interaction_mapping",
                    "params:training",
                ],
                outputs="lead_scoring_model",
                name="train_catboost",
            ),
            Node(
                fit_logistic_baseline,
                inputs=["model_input_train", "interaction_mapping", "params:training"],
                outputs="logistic_baseline",
                name="fit_logistic_baseline",
            ),
            Node(
                fit_tier_cuts,
                inputs=["lead_scoring_model", "model_input_validation", "params:tiers"],
                outputs="tier_cuts",
                name="fit_tier_cuts",
            ),
            Node(
                predict_holdout,
                inputs=[
                    "lead_scoring_model",
                    "logistic_baseline",
                    "model_input_holdout",
                    "tier_cuts",
                    "interaction_mapping",
                ],
                outputs="holdout_predictions",
                name="predict_holdout",
            ),
            Node(
                evaluate_holdout,
                inputs=["holdout_predictions", "params:training"],
                outputs=["holdout_metrics", "holdout_metrics_mlflow"],
                name="evaluate_holdout",
            ),
        ],
        tags="training",
    )


def create_train_pipeline(*companions: Pipeline, raw_leads: str = "raw_leads") -> Pipeline:
    """Raw export to a registered scoring model: every stage, bound to the scoring core.

    ``companions`` (reporting, the monitoring reference) join before the binding: adding to a
    bound pipeline afterwards would demote it to a plain one that logs no model. ``raw_leads``
    names the dataset the labelled export comes from, e.g. one a companion reads from the store.
    """
    learning = sum(
        companions,
        ingestion.create_pipeline()
        + validation.create_pipeline()
        + feature_engineering.create_pipeline()
        + create_pipeline(),
    )
    if raw_leads != "raw_leads":
        learning = pipeline(learning, inputs={"raw_leads": raw_leads})
    return pipeline_ml_factory(
        training=learning,
        inference=scoring.create_pipeline(),
        input_name=scoring.pipeline.SCORING_INPUT,
        kpm_kwargs={"runner": runner.SequentialRunner()},
        log_model_kwargs={
            "name": "model",
            "registered_model_name": REGISTERED_MODEL_NAME,
            # The model carries the project's code, so it loads where the package is not installed.
            "code_paths": [str(_PACKAGE_DIR)],
            "signature": None,
        },
    )
