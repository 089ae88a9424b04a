"""promote: the challenger replaces the champion only when it did better on the same real leads.

Both versions scored the same leads (the champion for the reps, the challenger in shadow); once
outcomes are known, their realised ROC AUCs are compared on the labelled leads both scored, and
a paired bootstrap (the same resample of leads for both) says how sure the gain is.

On promotion the challenger takes the ``champion`` alias and loses ``challenger``; the old
champion takes ``previous_champion``, a pointer to roll back to that nothing scores with: it
lost on real leads, so shadowing it further would spend a model's scoring time on the past.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lead_scoring.contract import CHALLENGER, CHAMPION, LABEL
from lead_scoring.store import LeadStore, now_utc, role_queries

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

PREVIOUS_CHAMPION = "previous_champion"
# A bootstrap block holds at most this many resampled leads at once (resamples x leads): some
# 40 MB of counts, whatever the number of leads.
_BLOCK_CELLS = 5_000_000
# A decision's numbers, logged as MLflow metrics ``promote.<name>``.
_FIGURES = (
    "leads_compared",
    "champion_roc_auc",
    "challenger_roc_auc",
    "gain",
    "gain_low",
    "gain_high",
)


def _version(client: MlflowClient, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def find_contenders(model_name: str) -> dict:
    """The registered model's champion and challenger versions (None where an alias is unset)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    champion = _version(client, model_name, CHAMPION)
    challenger = _version(client, model_name, CHALLENGER)
    if challenger == champion:
        challenger = None
    return {"model_name": model_name, "champion": champion, "challenger": challenger}


def pair_outcomes(store: LeadStore, contenders: dict) -> pd.DataFrame:
    """The labelled leads both contenders scored in their roles, with both probabilities."""
    if contenders["champion"] is None or contenders["challenger"] is None:
        return pd.DataFrame(
            columns=["lead_id", LABEL, "champion_probability", "challenger_probability"]
        )
    return role_queries.paired_outcomes(
        store, contenders["model_name"], contenders["champion"], contenders["challenger"]
    )


def weighted_roc_auc(label: np.ndarray, score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """ROC AUC of ``score`` on each row of ``counts`` (times each lead is drawn), ties halved.

    Equal to scikit-learn's ROC AUC of the resampled leads: a positive outranks each drawn
    negative with a lower score, and half of each with an equal one.
    """
    order = np.argsort(score, kind="stable")
    sorted_score, positive = score[order], label[order] == 1
    drawn = counts[:, order].astype(np.float64)
    # One column per distinct score: ties share a column.
    starts = np.flatnonzero(np.r_[True, sorted_score[1:] != sorted_score[:-1]])
    pos = np.add.reduceat(drawn * positive, starts, axis=1)
    neg = np.add.reduceat(drawn * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (pos.sum(axis=1) * neg.sum(axis=1))


def bootstrap_gains(
    label: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    samples: int,
    seed: int,
) -> np.ndarray:
    """The challenger's ROC AUC gain over the champion on ``samples`` paired resamples.

    Each resample draws the leads with replacement, and both models are measured on that same
    draw: the gain's spread is the spread of the difference, not of two independent AUCs.
    """
    rng = np.random.default_rng(seed)
    n = len(label)
    block = max(1, _BLOCK_CELLS // max(n, 1))
    blocks = []
    for start in range(0, samples, block):
        rows = min(block, samples - start)
        drawn = rng.integers(0, n, size=(rows, n))
        offsets = (drawn + n * np.arange(rows)[:, None]).ravel()
        counts = np.bincount(offsets, minlength=rows * n).reshape(rows, n)
        blocks.append(
            weighted_roc_auc(label, challenger, counts) - weighted_roc_auc(label, champion, counts)
        )
    gains = np.concatenate(blocks)
    # A resample with one outcome only has no AUC; it says nothing about the gain.
    return gains[np.isfinite(gains)]


def _decision(contenders: dict, params: dict, leads: int, outcome: str, reason: str) -> dict:
    return {
        "decided_at": now_utc(),
        "model_name": contenders["model_name"],
        "champion_version": contenders["champion"],
        "challenger_version": contenders["challenger"],
        "leads_compared": leads,
        **dict.fromkeys(_FIGURES[1:]),
        "confidence": float(params["confidence"]),
        "margin": float(params["margin"]),
        "outcome": outcome,
        "reason": reason,
    }


def decide_promotion(paired: pd.DataFrame, contenders: dict, params: dict) -> dict:
    """Promoted, kept, too few outcomes or no challenger, with both figures and the interval."""
    from sklearn.metrics import roc_auc_score

    if contenders["champion"] is None or contenders["challenger"] is None:
        reason = (
            "no champion in the registry to challenge"
            if contenders["champion"] is None
            else f"champion version {contenders['champion']} stays, nothing to compare"
        )
        return _decision(contenders, params, 0, "no_challenger", reason)
    label = paired[LABEL].astype("int64").to_numpy()
    completers, others = int(label.sum()), int(len(label) - label.sum())
    needed = int(params["min_outcomes"])
    if min(completers, others) < needed:
        return _decision(
            contenders,
            params,
            len(label),
            "too_few_outcomes",
            f"{completers} completers and {others} non-completers among the "
            f"{len(label)} labelled leads both scored, {needed} of each needed",
        )
    champion = paired["champion_probability"].astype("float64").to_numpy()
    challenger = paired["challenger_probability"].astype("float64").to_numpy()
    champion_auc = float(roc_auc_score(label, champion))
    challenger_auc = float(roc_auc_score(label, challenger))
    gains = bootstrap_gains(
        label, champion, challenger, int(params["bootstrap_samples"]), int(params["seed"])
    )
    tail = (1 - float(params["confidence"])) / 2
    low, high = (float(q) for q in np.quantile(gains, [tail, 1 - tail]))
    gain = challenger_auc - champion_auc
    wins = gain > params["margin"] and low > 0
    clears_margin = "clears" if gain > params["margin"] else "does not clear"
    interval = "above" if low > 0 else "not above"
    reason = (
        f"challenger v{contenders['challenger']} ROC AUC {challenger_auc:.4f} against champion "
        f"v{contenders['champion']} {champion_auc:.4f} on the same {len(label):,} labelled leads: "
        f"gain {gain:+.4f} {clears_margin} the margin {params['margin']:.3f}, "
        f"{params['confidence']:.0%} interval {low:+.4f} to {high:+.4f} {interval} zero"
    )
    outcome = "promoted" if wins else "kept"
    return _decision(contenders, params, len(label), outcome, reason) | {
        "champion_roc_auc": champion_auc,
        "challenger_roc_auc": challenger_auc,
        "gain": gain,
        "gain_low": low,
        "gain_high": high,
    }


def _log_to_mlflow(decision: dict) -> str:
    """The decision as params, metrics and tags of the run (kedro-mlflow's, else its own)."""
    import mlflow

    active = mlflow.active_run()
    run = active or mlflow.start_run(run_name=f"promote {pd.Timestamp.now():%Y-%m-%d %H:%M:%S}")
    try:
        mlflow.log_params(
            {
                k: decision[k]
                for k in ("champion_version", "challenger_version", "confidence", "margin")
            }
        )
        mlflow.log_metrics(
            {f"promote.{k}": float(decision[k]) for k in _FIGURES if decision[k] is not None}
        )
        mlflow.set_tags(
            {"promote.outcome": decision["outcome"], "promote.reason": decision["reason"][:5000]}
        )
        return run.info.run_id
    finally:
        if active is None:
            mlflow.end_run()


def _move_aliases(decision: dict) -> None:
    from mlflow.tracking import MlflowClient

    client, name = MlflowClient(), decision["model_name"]
    old, new = decision["champion_version"], decision["challenger_version"]
    client.set_registered_model_alias(name, CHAMPION, new)
    client.delete_registered_model_alias(name, CHALLENGER)
    client.set_registered_model_alias(name, PREVIOUS_CHAMPION, old)
    client.set_model_version_tag(
        name, new, "alias_reason", f"promoted on realised results: {decision['reason']}"
    )
    client.set_model_version_tag(
        name, old, "alias_reason", f"replaced by version {new} on realised results"
    )


def apply_promotion(store: LeadStore, decision: dict) -> dict:
    """Move the aliases when promoted; log the decision to MLflow and the store's promotion_log."""
    # Checked first: a decision must never move an alias without being kept.
    role_queries.check_promotion_log(store)
    if decision["outcome"] == "promoted":
        _move_aliases(decision)
    kept = decision | {"mlflow_run_id": _log_to_mlflow(decision)}
    kept["decision_id"] = int(role_queries.record_promotion(store, kept))
    logger.info("Promote: %s: %s.", kept["outcome"].replace("_", " "), kept["reason"])
    return kept
