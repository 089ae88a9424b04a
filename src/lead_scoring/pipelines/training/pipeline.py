"""Training: temporal split, CatBoost and baseline, tier cuts, holdout metrics.

The registry (``pipeline_registry.py``) binds training to the model's scoring core, so every
train run logs and registers the scoring pipeline as one model.
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.training.backtest import backtest_out_of_time, summarise_backtest
from lead_scoring.pipelines.training.champion import challenge_champion, select_raw_holdout
from lead_scoring.pipelines.training.nodes import (
    evaluate_holdout,
    fit_logistic_baseline,
    fit_probability_calibration,
    fit_tier_cuts,
    predict_holdout,
    refit_catboost,
    split_by_time,
    split_train_validation,
    train_catboost,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Measure on the holdout, cut the tiers out of time, then refit on every labelled lead."""
    measure = Pipeline(
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
                outputs="measured_model",
                name="train_catboost",
            ),
            Node(
                fit_logistic_baseline,
                inputs=["model_input_train", "interaction_mapping", "params:training"],
                outputs="logistic_baseline",
                name="fit_logistic_baseline",
            ),
            Node(
                backtest_out_of_time,
                inputs=[
                    "model_input_fit",
                    "measured_model",
                    "model_input_train",
                    "model_input_validation",
                    "interaction_mapping",
                    "params:training",
                ],
                outputs="backtest_predictions",
                name="backtest_out_of_time",
            ),
            Node(
                fit_probability_calibration,
                inputs="backtest_predictions",
                outputs="probability_calibration",
                name="fit_probability_calibration",
            ),
            Node(
                fit_tier_cuts,
                inputs=["backtest_predictions", "probability_calibration", "params:tiers"],
                outputs="tier_cuts",
                name="fit_tier_cuts",
            ),
            Node(
                predict_holdout,
                inputs=[
                    "measured_model",
                    "logistic_baseline",
                    "model_input_holdout",
                    "tier_cuts",
                    "probability_calibration",
                    "interaction_mapping",
                ],
                outputs="holdout_predictions",
                name="predict_holdout",
            ),
            Node(
                evaluate_holdout,
                inputs=["holdout_predictions", "tier_cuts", "params:training"],
                outputs=["holdout_metrics", "holdout_metrics_mlflow"],
                name="evaluate_holdout",
            ),
            Node(
                summarise_backtest,
                inputs=[
                    "backtest_predictions",
                    "holdout_predictions",
                    "tier_cuts",
                    "probability_calibration",
                ],
                outputs=["backtest_table", "backtest_metrics_mlflow"],
                name="summarise_backtest",
            ),
        ]
    )
    register = Pipeline(
        [
            Node(
                refit_catboost,
                inputs=[
                    "model_input_labelled",
                    "measured_model",
                    "model_input_train",
                    "interaction_mapping",
                    "params:training",
                ],
                outputs=[
                    "lead_scoring_model",
                    "registered_model_summary",
                    "registered_model_metrics_mlflow",
                ],
                name="refit_catboost",
            ),
            Node(
                select_raw_holdout,
                inputs=["raw_leads", "holdout_leads"],
                outputs="raw_holdout_leads",
                name="select_raw_holdout",
            ),
            Node(
                challenge_champion,
                inputs=["raw_holdout_leads", "holdout_predictions", "params:training.promotion"],
                outputs=["champion_comparison", "champion_comparison_mlflow"],
                name="challenge_champion",
            ),
        ]
    )
    return Pipeline([measure, register], tags="training")
