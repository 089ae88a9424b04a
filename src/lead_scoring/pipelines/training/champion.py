"""Champion against challenger: both scored on the new run's holdout, compared there."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pandas as pd

from lead_scoring.contract import CREATED_DATE, LABEL
from lead_scoring.tracking import as_mlflow_metrics

logger = logging.getLogger(__name__)


def select_raw_holdout(raw_leads: pd.DataFrame, holdout_leads: pd.DataFrame) -> pd.DataFrame:
    """The holdout leads as the export gave them: what a registered model takes in."""
    return raw_leads.loc[holdout_leads.index]


def _load_champion(name: str, alias: str):
    """The champion's version, pyfunc model and newest training lead; Nones when there is none."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None, None, None
    # Loading adds the model's code directory to sys.path; this run keeps its own.
    saved_path = list(sys.path)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version.version}")
    finally:
        sys.path[:] = saved_path
    # A version registered by hand has no run, and no newest lead to compare from.
    metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
    newest = metrics.get("registered.newest_lead_unix_days")
    return version, model, None if newest is None else from_unix_days(newest)


def from_unix_days(days: float) -> pd.Timestamp:
    """A timestamp logged as a metric in days since 1970, back to the second it was."""
    # The metric is a float: 2022-02-28 23:41:14 comes back as 23:41:13.999999762.
    return pd.Timestamp(days * 86_400, unit="s").round("s")


def _scores(label: np.ndarray, probability: np.ndarray) -> dict:
    from sklearn.metrics import log_loss, roc_auc_score

    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(label, probability)),
        "log_loss": float(log_loss(label, clipped, labels=[0, 1])),
    }


def challenge_champion(
    raw_holdout: pd.DataFrame, holdout_predictions: pd.DataFrame, params: dict
) -> tuple[dict, dict]:
    """Score the registered champion on this run's holdout; the challenger wins by a margin only.

    Where the champion was fitted on some holdout leads, the comparison keeps the leads newer
    than its data, if there are enough of them; otherwise the champion's score is optimistic,
    which only makes promotion harder.
    """
    version, champion, newest = _load_champion(
        params["registered_model_name"], params["champion_alias"]
    )
    if champion is None:
        logger.info("No champion to compare with: the new model will be the first.")
        return {"champion_version": None, "challenger_wins": True}, {}
    scores = champion.predict(raw_holdout)
    probability = pd.to_numeric(pd.Series(scores["probability"].to_numpy()), errors="coerce")
    # One output row per input row, in order; a lead the champion quarantines is not compared.
    compared = probability.notna().to_numpy()
    fresh = compared.copy()
    if newest is not None:
        fresh &= (holdout_predictions[CREATED_DATE] > newest).to_numpy()
    if fresh.sum() >= params["min_fresh_leads"]:
        compared = fresh
    elif newest is not None and newest >= holdout_predictions[CREATED_DATE].min():
        logger.warning(
            "Champion version %s was fitted on leads up to %s, inside this holdout, and only %d "
            "holdout leads are newer: it is compared on the whole holdout, where its figures are "
            "optimistic.",
            version.version,
            newest,
            fresh.sum(),
        )
    label = holdout_predictions[LABEL].to_numpy()[compared]
    if label.min() == label.max():
        logger.warning("The holdout leads both models scored hold one class only: no comparison.")
        return {"champion_version": str(version.version), "challenger_wins": False}, {}
    challenger = _scores(label, holdout_predictions["probability"].to_numpy()[compared])
    incumbent = _scores(label, probability.to_numpy()[compared])
    gain = challenger["roc_auc"] - incumbent["roc_auc"]
    wins = gain > params["margin_roc_auc"] and challenger["log_loss"] <= incumbent["log_loss"]
    comparison = {
        "champion_version": str(version.version),
        "leads": int(compared.sum()),
        "only_leads_newer_than_champion_data": bool(compared is fresh),
        "challenger_roc_auc": challenger["roc_auc"],
        "champion_roc_auc": incumbent["roc_auc"],
        "challenger_log_loss": challenger["log_loss"],
        "champion_log_loss": incumbent["log_loss"],
        "margin_roc_auc": params["margin_roc_auc"],
        "challenger_wins": bool(wins),
    }
    logger.info(
        "Champion version %s on the same %d holdout leads: ROC AUC %.4f against the new model's "
        "%.4f, log loss %.4f against %.4f; the new model %s by the margin %.3f",
        version.version,
        comparison["leads"],
        incumbent["roc_auc"],
        challenger["roc_auc"],
        incumbent["log_loss"],
        challenger["log_loss"],
        "wins" if wins else "does not win",
        params["margin_roc_auc"],
    )
    numbers = {k: v for k, v in comparison.items() if not isinstance(v, str) and v is not None}
    numbers["champion_version"] = float(version.version)
    return comparison, as_mlflow_metrics(numbers)
