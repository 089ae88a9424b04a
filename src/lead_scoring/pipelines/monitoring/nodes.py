"""Drift monitoring: a reference profile at training time, PSI against it at scoring time.

At scoring time monitoring reads what the scoring run wrote, the model's answers with the
model input they carry, and re-runs no stage: the features profiled are those the model scored.

A profile bins every model feature, the score and the tier. The reference holds shares per bin
(bin edges and category levels fixed at training); a batch profile holds counts in the same bins,
so profiles of chunks add up to the profile of their batch.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from lead_scoring.contract import SCORED, TIERS
from lead_scoring.datasets.scored_chunks_dataset import (
    LEVEL_PREFIX,
    MODEL_INPUT_PREFIX,
    ScoredChunks,
)
from lead_scoring.heavy_types import Figure
from lead_scoring.pipelines.feature_engineering import CATEGORICAL_FEATURES, feature_columns
from lead_scoring.tracking import as_mlflow_metrics

logger = logging.getLogger(__name__)

SCORE = "score"
TIER = "tier"
MISSING_BIN = "missing"
HISTORY_COLUMNS = [
    "run_time",
    "model_version",
    "feature",
    "kind",
    "psi",
    "status",
    "unseen_share",
    "rows",
]


# --- binning and PSI ------------------------------------------------------------------------


def quantile_edges(values: pd.Series, n_bins: int) -> list[float]:
    """Interior bin edges at the reference's quantiles; ties merge, so a spike is one bin."""
    present = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype="float64")
    if present.size == 0:
        return []
    # "lower" keeps edges on observed values: counts get bins (..., 1], (1, 2], not (1.5, 2.5].
    cuts = np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1], method="lower")
    return sorted({float(cut) for cut in cuts})


def numeric_bin_labels(edges: list[float]) -> list[str]:
    """Readable names of the right-closed bins that ``edges`` cut, then the missing bin."""
    if not edges:
        return ["any value", MISSING_BIN]
    inner = [f"({low:.4g}, {high:.4g}]" for low, high in zip(edges, edges[1:], strict=False)]
    return [f"<= {edges[0]:.4g}", *inner, f"> {edges[-1]:.4g}", MISSING_BIN]


def numeric_counts(values: pd.Series, edges: list[float]) -> np.ndarray:
    """How many values fall in each right-closed bin, then how many are missing."""
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(array)
    bins = np.searchsorted(np.asarray(edges, dtype="float64"), array[~missing], side="left")
    return np.append(np.bincount(bins, minlength=len(edges) + 1), missing.sum())


def level_counts(values: pd.Series, levels: list[str]) -> np.ndarray:
    """How many values take each level, in the order of ``levels``."""
    codes = pd.Categorical(values.astype("object"), categories=levels).codes
    return np.bincount(codes[codes >= 0], minlength=len(levels))


def population_stability_index(expected: list[float], actual: list[float], epsilon: float) -> float:
    """PSI = sum over bins of (actual - expected) * ln(actual / expected), shares floored at epsilon."""
    # The floor keeps a bin that one side never fills from making the index infinite.
    floored_expected = np.maximum(np.asarray(expected, dtype="float64"), epsilon)
    floored_actual = np.maximum(np.asarray(actual, dtype="float64"), epsilon)
    return float(
        np.sum((floored_actual - floored_expected) * np.log(floored_actual / floored_expected))
    )


def drift_status(psi: float | None, rows: int, params: dict) -> str:
    """stable, watch or drift by the PSI levels; small batches are too noisy to judge."""
    if psi is None:
        return "no rows"
    if rows < params["min_batch_rows"]:
        return "too few rows"
    if psi > params["psi_alert"]:
        return "drift"
    return "watch" if psi > params["psi_watch"] else "stable"


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def _numeric_entry(values: pd.Series, n_bins: int, kind: str) -> dict:
    edges = quantile_edges(values, n_bins)
    return {
        "kind": kind,
        "edges": edges,
        "bins": numeric_bin_labels(edges),
        "shares": _shares(numeric_counts(values, edges)),
    }


# --- training time: the reference ---------------------------------------------------------


def build_reference_profile(
    model_input_fit: pd.DataFrame,
    fit_leads: pd.DataFrame,
    holdout_predictions: pd.DataFrame,
    category_vocabulary: dict[str, list[str]],
    interaction_mapping: pd.DataFrame,
    params: dict,
) -> dict:
    """Training distribution of every model feature, of the holdout scores and of the tiers."""
    features = {}
    for column in feature_columns(interaction_mapping):
        values = model_input_fit[column]
        if column in CATEGORICAL_FEATURES:
            levels = [str(level) for level in values.cat.categories]
            features[column] = {
                "kind": "categorical",
                "bins": levels,
                "shares": _shares(level_counts(values, levels)),
                # Every raw level of the fitting rows, also those folded into the rare bucket.
                "known_levels": sorted(fit_leads[column].dropna().astype(str).unique()),
            }
        else:
            features[column] = _numeric_entry(values, params["numeric_bins"], "numeric")
    # Scores on the holdout, not on the fitting rows: in-sample scores are sharper than any
    # batch the model will meet.
    features[SCORE] = _numeric_entry(
        holdout_predictions["probability"], params["score_bins"], "score"
    )
    features[TIER] = {
        "kind": "tier",
        "bins": list(TIERS),
        "shares": _shares(level_counts(holdout_predictions["tier"], list(TIERS))),
    }
    return {
        "rows": len(model_input_fit),
        "score_rows": len(holdout_predictions),
        "vocabulary": category_vocabulary,
        "features": features,
    }


# --- scoring time: the batch against the reference -----------------------------------------


def load_drift_reference(model_version: dict, params: dict) -> dict:
    """The reference profile logged with the training run of the scoring model version."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if not model_version.get("run_id"):
        logger.warning("A local model carries no drift reference; drift monitoring is skipped.")
        return {}
    try:
        path = mlflow.artifacts.download_artifacts(
            run_id=model_version["run_id"], artifact_path=params["reference_artifact"]
        )
    except (MlflowException, OSError) as error:
        # Scoring must not stop for monitoring: a model trained before monitoring existed
        # still scores, and the log says how to get drift reports back.
        logger.warning(
            "Model version %s has no drift reference (%s); drift monitoring is skipped. "
            "Retrain with `kedro run --pipeline=train` to monitor it.",
            model_version["version"],
            str(error).splitlines()[0],
        )
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def profile_batch(
    model_input: pd.DataFrame, lead_levels: pd.DataFrame, predictions: pd.DataFrame, reference: dict
) -> dict:
    """Counts per reference bin of a batch or chunk, and counts of never-seen levels.

    ``model_input`` holds the features of (a sample of) the scored leads as the model built
    them, ``lead_levels`` the same leads' own category levels; ``predictions`` every lead's
    status, probability and tier.
    """
    scored = predictions.loc[predictions["status"] == SCORED]
    features: dict[str, dict] = {}
    profile = {"rows": len(scored), "sampled": len(model_input), "features": features}
    for name, entry in reference.get("features", {}).items():
        if entry["kind"] == "score":
            values = scored["probability"].astype("float64")
        elif entry["kind"] == "tier":
            values = scored["tier"]
        elif name in model_input:
            values = model_input[name]
        else:
            continue  # a model that does not carry its model input: see profile_scored_batch
        binned = (
            numeric_counts(values, entry["edges"])
            if "edges" in entry
            else level_counts(values, entry["bins"])
        )
        counts = {"counts": binned.tolist()}
        if "known_levels" in entry:
            raw = lead_levels[name]
            counts["unseen"] = int((raw.notna() & ~raw.isin(entry["known_levels"])).sum())
        features[name] = counts
    return profile


def _unprefixed(rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
    columns = [c for c in rows.columns if c.startswith(prefix)]
    return rows[columns].rename(columns=lambda c: c.removeprefix(prefix))


def profile_scored_batch(chunks: ScoredChunks, reference: dict, params: dict) -> dict:
    """The drift profile of a scored batch, added up chunk by chunk."""
    if not reference:
        return {}
    profile = None
    for chunk in chunks.read(_drift_column):
        scored = chunk.rows.loc[(chunk.rows["status"] == SCORED).to_numpy()]
        if not len(scored):
            continue
        # Scores of every lead, features of a sample: bin shares need a sample, not every lead.
        size = min(len(scored), params["profile_rows_per_chunk"])
        sample = scored.sample(n=size, random_state=params["profile_seed"])
        chunk_profile = profile_batch(
            _unprefixed(sample, MODEL_INPUT_PREFIX),
            _unprefixed(sample, LEVEL_PREFIX),
            chunk.rows,
            reference,
        )
        profile = chunk_profile if profile is None else add_profiles(profile, chunk_profile)
    if profile and len(profile["features"]) < len(reference["features"]):
        # A model registered before its answer carried the model input still scores.
        logger.warning(
            "The scoring model's answer carries no model input: drift is measured on its scores "
            "and tiers only. Retrain with `kedro run --pipeline=train` to monitor its features."
        )
    return profile or {}


def _drift_column(column: str) -> bool:
    return column in ("status", "probability", "tier") or column.startswith(
        (MODEL_INPUT_PREFIX, LEVEL_PREFIX)
    )


def add_profiles(first: dict, second: dict) -> dict:
    """The profile of two chunks together: counts add bin by bin."""
    features = {}
    for name, counts in first["features"].items():
        other = second["features"][name]
        # Bin counts are lists and unseen counts numbers: both add element-wise.
        features[name] = {key: np.add(counts[key], other[key]).tolist() for key in counts}
    return {
        "rows": first["rows"] + second["rows"],
        "sampled": first["sampled"] + second["sampled"],
        "features": features,
    }


def compare_with_reference(
    batch_profile: dict, reference: dict, model_version: dict, params: dict
) -> dict:
    """PSI, status and unseen-level share per feature, and the bin shares on both sides."""
    rows, sampled = batch_profile.get("rows", 0), batch_profile.get("sampled", 0)
    features = {}
    for name, entry in reference.get("features", {}).items():
        # A batch without a scored lead has nothing in any bin: no PSI, "too few rows".
        profiled = batch_profile.get("features", {}).get(name, {})
        counts = np.asarray(profiled.get("counts", [0] * len(entry["shares"])), dtype="float64")
        total = counts.sum()
        psi = (
            population_stability_index(entry["shares"], counts / total, params["psi_epsilon"])
            if total
            else None
        )
        unseen = profiled.get("unseen")
        features[name] = {
            "kind": entry["kind"],
            "psi": psi,
            "status": drift_status(psi, rows, params),
            "unseen_share": unseen / sampled if unseen is not None and sampled else None,
            "bins": entry["bins"],
            "reference_shares": entry["shares"],
            "batch_shares": (counts / total).tolist() if total else None,
        }
    return {
        "run_time": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "model_version": model_version["version"],
        "rows": rows,
        "reference_rows": reference.get("rows"),
        "features": features,
    }


def drift_history_rows(drift_report: dict) -> pd.DataFrame:
    """One row per feature of this run, to append to the drift history."""
    run = {key: drift_report[key] for key in ("run_time", "model_version", "rows")}
    features = drift_report["features"].items()
    rows = [{**run, "feature": name, **feature} for name, feature in features]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def drift_metrics(drift_report: dict) -> dict:
    """PSI and unseen share per feature and the batch's tier shares, as MLflow metrics."""
    metrics = {}
    for name, feature in drift_report["features"].items():
        if feature["psi"] is not None:
            metrics[f"psi.{name}"] = feature["psi"]
        if feature["unseen_share"] is not None:
            metrics[f"unseen_share.{name}"] = feature["unseen_share"]
        if feature["kind"] == "tier" and feature["batch_shares"] is not None:
            for tier, share in zip(feature["bins"], feature["batch_shares"], strict=True):
                metrics[f"tier_share.{tier}"] = share
    return as_mlflow_metrics(metrics)


def flag_drift(drift_report: dict, params: dict) -> list[str]:
    """Warn in the log about every feature whose PSI passes the alert level, and list them."""
    drifting = [name for name, f in drift_report["features"].items() if f["status"] == "drift"]
    for name in drifting:
        feature = drift_report["features"][name]
        logger.warning(
            "Drift in %s: PSI %.3f against training passes %.2f (model version %s, %d leads).",
            name,
            feature["psi"],
            params["psi_alert"],
            drift_report["model_version"],
            drift_report["rows"],
        )
    return drifting


def count_drifting_features(drift_alerts: list[str]) -> dict:
    """How many features drift, as the batch's MLflow metric."""
    return as_mlflow_metrics({"drifting_features": len(drift_alerts)})


_STATUS_COLOURS = {
    "stable": "#4c9a5b",
    "watch": "#e0a030",
    "drift": "#c8423b",
    "too few rows": "#9a9a9a",
    "no rows": "#9a9a9a",
}


def plot_drift(drift_report: dict, params: dict) -> Figure:
    """PSI per feature against the alert levels, and tier shares against training."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 7), layout="constrained")
    psi_axes, tier_axes = figure.subplots(1, 2, width_ratios=[3, 1])
    features = {n: f for n, f in drift_report["features"].items() if f["psi"] is not None}
    figure.suptitle(
        f"Drift against training: model version {drift_report['model_version']}, "
        f"{drift_report['rows']} leads, {drift_report['run_time']}"
    )
    if not features:
        psi_axes.text(0.5, 0.5, "No drift reference or no scored leads", ha="center")
        tier_axes.set_axis_off()
        return figure
    names = list(features)[::-1]
    psi_axes.barh(
        names,
        [features[n]["psi"] for n in names],
        color=[_STATUS_COLOURS[features[n]["status"]] for n in names],
    )
    for position, name in enumerate(names):
        unseen = features[name]["unseen_share"]
        note = f" {features[name]['psi']:.3f}" + (f", unseen {unseen:.1%}" if unseen else "")
        psi_axes.text(features[name]["psi"], position, note, va="center", fontsize=8)
    psi_axes.axvline(params["psi_watch"], color="#e0a030", linestyle=":", label="watch")
    psi_axes.axvline(params["psi_alert"], color="#c8423b", linestyle="--", label="alert")
    psi_axes.set_xlabel("population stability index")
    psi_axes.legend(loc="lower right")
    tier = drift_report["features"].get(TIER)
    if tier is None or tier["batch_shares"] is None:
        tier_axes.set_axis_off()
        return figure
    positions = np.arange(len(tier["bins"]))
    tier_axes.bar(positions - 0.2, tier["reference_shares"], 0.4, label="training", color="#888")
    tier_axes.bar(positions + 0.2, tier["batch_shares"], 0.4, label="this batch", color="#3a6ea5")
    tier_axes.set_xticks(positions, tier["bins"])
    tier_axes.set_ylabel("share of leads")
    tier_axes.legend()
    return figure
