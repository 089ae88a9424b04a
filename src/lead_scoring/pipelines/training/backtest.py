"""Rolling-origin backtest: fit on the months before m, predict month m, over the last k months."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lead_scoring.contract import CREATED_DATE, LABEL
from lead_scoring.heavy_types import CatBoostClassifier
from lead_scoring.pipelines.lead_model import (
    assign_tiers,
    calibrate_probabilities,
    predict_probabilities,
    probability_to_score,
)
from lead_scoring.pipelines.training.nodes import fit_fixed_trees, scaled_tree_count, tier_outcomes
from lead_scoring.tracking import as_mlflow_metrics

logger = logging.getLogger(__name__)


def backtest_out_of_time(
    model_input_fit: pd.DataFrame,
    measured_model: CatBoostClassifier,
    model_input_train: pd.DataFrame,
    model_input_validation: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict,
) -> pd.DataFrame:
    """Out-of-time probabilities for each of the last k months of the fitting rows.

    Each month is predicted by a model fitted on the months before it only, with the measured
    tree count scaled to that fit's size, so the predictions carry the drift a new month brings.
    An export too short for any month falls back on the validation slice, with a warning.
    """
    settings = params["backtest"]
    months = model_input_fit[CREATED_DATE].dt.to_period("M")
    predictions = []
    for month in sorted(months.unique())[-settings["months"] :]:
        before = model_input_fit.loc[months < month]
        target = model_input_fit.loc[months == month]
        if min(len(before), len(target)) < settings["min_fold_leads"]:
            logger.info("Backtest: month %s skipped (%d leads before it)", month, len(before))
            continue
        trees = scaled_tree_count(measured_model, len(model_input_train), len(before))
        model = fit_fixed_trees(before, trees, interaction_mapping, params)
        predictions.append(_predictions(str(month), target, model))
        logger.info(
            "Backtest: month %s predicted by %d trees fitted on %d earlier leads",
            month,
            trees,
            len(before),
        )
    if not predictions:
        logger.warning(
            "The backtest has no month to predict (fewer than backtest.min_fold_leads=%d leads in "
            "a month or before it): the tier cuts fall back on the validation slice, which chose "
            "the tree count and flatters them.",
            settings["min_fold_leads"],
        )
        return _predictions("validation", model_input_validation, measured_model)
    return pd.concat(predictions, ignore_index=True)


def _predictions(month: str, leads: pd.DataFrame, model: CatBoostClassifier) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": month,
            CREATED_DATE: leads[CREATED_DATE].to_numpy(),
            LABEL: leads[LABEL].to_numpy(),
            "probability": predict_probabilities(model, leads),
        }
    )


def _month_metrics(label: np.ndarray, probability: np.ndarray, tiers: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    both_classes = 0 < label.sum() < len(label)
    return {
        "leads": len(label),
        "completion_rate": float(label.mean()),
        "mean_probability": float(probability.mean()),
        "roc_auc": roc_auc_score(label, probability) if both_classes else np.nan,
        "pr_auc": average_precision_score(label, probability) if both_classes else np.nan,
        **tier_outcomes(label, tiers),
    }


def summarise_backtest(
    backtest_predictions: pd.DataFrame,
    holdout_predictions: pd.DataFrame,
    tier_cuts: dict,
    probability_calibration: dict,
) -> tuple[pd.DataFrame, dict]:
    """Per month: ROC AUC, PR AUC, hot precision and cold loss, backtest months then holdout."""
    backtest_predictions = backtest_predictions.assign(
        probability=calibrate_probabilities(
            backtest_predictions["probability"].to_numpy(), probability_calibration
        )
    )
    holdout = holdout_predictions.assign(
        month=holdout_predictions[CREATED_DATE].dt.to_period("M").astype(str)
    )
    rows = []
    for period, frame in (("backtest", backtest_predictions), ("holdout", holdout)):
        for month, group in frame.groupby("month", sort=True):
            probability = group["probability"].to_numpy()
            rows.append(
                {
                    "period": period,
                    "month": month,
                    **_month_metrics(
                        group[LABEL].to_numpy(),
                        probability,
                        assign_tiers(probability_to_score(probability), tier_cuts),
                    ),
                }
            )
    table = pd.DataFrame(rows)
    metrics = {
        f"{row.period}_{row.month}.{name}": getattr(row, name)
        for row in table.itertuples()
        for name in ("roc_auc", "pr_auc", "hot_precision", "cold_completers_lost")
        if not pd.isna(getattr(row, name))
    }
    for row in table.itertuples():
        logger.info(
            "%s %s: %d leads, ROC AUC %.4f, PR AUC %.4f, hot precision %.3f, cold loses %.1f%%",
            row.period.capitalize(),
            row.month,
            row.leads,
            row.roc_auc,
            row.pr_auc,
            row.hot_precision,
            100 * row.cold_completers_lost,
        )
    return table, as_mlflow_metrics(metrics)
