"""realised_performance: how every model version that scored stored leads did on their outcomes."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from lead_scoring.contract import (
    CHAMPION,
    CITY,
    COLD,
    CREATED_DATE,
    HOT,
    LABEL,
    LEVEL_COLUMNS,
    city_tier,
)
from lead_scoring.errors import RealisedPerformanceAlertError
from lead_scoring.pipelines.feature_engineering import CITY_TIER, encode_levels
from lead_scoring.pipelines.realised_performance.queries import (
    PERIOD,
    REALISED_KEY,
    labelled_scores,
    latest_champion,
)
from lead_scoring.pipelines.reporting import OTHER, segment_figures
from lead_scoring.pipelines.training import tier_outcomes
from lead_scoring.store import LeadStore, now_utc
from lead_scoring.store.tables import MODEL_NAME, MODEL_VERSION, ROLE

logger = logging.getLogger(__name__)

ALL_PERIODS = "all"
# The figures a row carries only with enough of each outcome; the counts and means it always has.
FIGURES = ["roc_auc", "pr_auc", "hot_precision"]
REALISED_COLUMNS = [
    *REALISED_KEY,
    "labelled_leads",
    "completers",
    *FIGURES,
    "cold_completers_lost",
    "mean_probability",
    "completion_rate",
    "note",
    "measured_at",
]
PROMISED_COLUMNS = [MODEL_NAME, MODEL_VERSION, "run_id", "holdout_roc_auc", "holdout_hot_precision"]
# Where a train run logs the holdout figures a version promised (training's holdout_metrics_mlflow).
HOLDOUT_METRICS = {
    "holdout_roc_auc": "holdout.roc_auc",
    "holdout_hot_precision": "holdout.hot_precision",
}
HOLDOUT_SEGMENTS_ARTIFACT = "reporting/holdout_segments.csv"
# The levels the version's training kept (feature engineering's category_vocabulary).
VOCABULARY_ARTIFACT = "category_vocabulary.json"


def read_labelled_scores(store: LeadStore) -> pd.DataFrame:
    """Every version's latest score of each stored lead whose outcome is known."""
    scores = labelled_scores(store.engine)
    logger.info(
        "%d score(s) of labelled leads by %d model version(s) in the store.",
        len(scores),
        scores[[MODEL_NAME, MODEL_VERSION]].drop_duplicates().shape[0],
    )
    return scores


def find_current_champion(store: LeadStore) -> dict:
    """The version that scored as champion most recently, the one reps work from now; {} if none.

    (Empty rather than None: Kedro refuses to hand None between nodes.)
    """
    return latest_champion(store.engine) or {}


def _too_few_note(completers: int, non_completers: int, min_outcomes: int) -> str | None:
    short = [
        f"{count} {name}"
        for count, name in ((completers, "completers"), (non_completers, "non-completers"))
        if count < min_outcomes
    ]
    if not short:
        return None
    each = " of each" if len(short) == 2 else ""
    return f"too few outcomes: {' and '.join(short)}, {min_outcomes}{each} needed"


def realised_figures(
    label: np.ndarray, probability: np.ndarray, tier: np.ndarray, min_outcomes: int
) -> dict:
    """Counts, means and, with ``min_outcomes`` of each outcome, ROC AUC, PR AUC, hot precision."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    completers = int(label.sum())
    row = {
        "labelled_leads": len(label),
        "completers": completers,
        **dict.fromkeys(FIGURES),
        "cold_completers_lost": int(label[tier == COLD].sum()),
        "mean_probability": float(probability.mean()) if len(label) else None,
        "completion_rate": completers / len(label) if len(label) else None,
        # Either outcome absent makes ROC AUC undefined; a handful makes it noise.
        "note": _too_few_note(completers, len(label) - completers, max(min_outcomes, 1)),
    }
    if row["note"] is not None:
        return row
    row["roc_auc"] = float(roc_auc_score(label, probability))
    row["pr_auc"] = float(average_precision_score(label, probability))
    if (tier == HOT).any():
        row["hot_precision"] = tier_outcomes(label, tier)["hot_precision"]
    else:
        row["note"] = "no lead scored hot: no hot precision"
    return row


def measure_realised_performance(labelled_scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One row per model, version, role and creation month of the leads, plus the period 'all'."""
    measured_at = now_utc()
    created = pd.to_datetime(labelled_scores[CREATED_DATE], format="ISO8601", errors="coerce")
    if created.isna().any():
        logger.warning(
            "%d labelled score(s) have a created_date that is not a timestamp (e.g. %r): they "
            "count in the period 'all' only.",
            int(created.isna().sum()),
            labelled_scores.loc[created.isna(), CREATED_DATE].iloc[0],
        )
    frame = labelled_scores.assign(**{PERIOD: created.dt.strftime("%Y-%m")})
    rows = []
    for (name, version, role), scores in frame.groupby([MODEL_NAME, MODEL_VERSION, ROLE]):
        periods = [(ALL_PERIODS, scores), *scores.groupby(PERIOD, sort=True)]
        for period, leads in periods:
            figures = realised_figures(
                leads[LABEL].to_numpy(dtype="int64"),
                leads["probability"].to_numpy(dtype="float64"),
                leads["tier"].to_numpy(dtype="object"),
                params["min_outcomes"],
            )
            rows.append(
                {
                    MODEL_NAME: name,
                    MODEL_VERSION: str(version),
                    ROLE: role,
                    PERIOD: period,
                    **figures,
                    "measured_at": measured_at,
                }
            )
    return pd.DataFrame(rows, columns=REALISED_COLUMNS)


def find_promised_figures(realised: pd.DataFrame) -> pd.DataFrame:
    """Each measured version's MLflow run and the holdout ROC AUC and hot precision it logged."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    rows = []
    for name, version in (
        realised[[MODEL_NAME, MODEL_VERSION]].drop_duplicates().itertuples(index=False)
    ):
        row = {MODEL_NAME: name, MODEL_VERSION: version, **dict.fromkeys(PROMISED_COLUMNS[2:])}
        try:
            run_id = client.get_model_version(name, version).run_id
            metrics = client.get_run(run_id).data.metrics if run_id else {}
        except MlflowException as error:
            logger.warning(
                "%s version %s is not in the registry at %s (%s): its realised figures are "
                "stored but not logged to MLflow, and it has no holdout figure to show.",
                name,
                version,
                mlflow.get_tracking_uri(),
                str(error).splitlines()[0],
            )
        else:
            row["run_id"] = run_id
            row.update({key: metrics.get(metric) for key, metric in HOLDOUT_METRICS.items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=PROMISED_COLUMNS)


def realised_metrics(rows: pd.DataFrame) -> dict[str, float]:
    """The rows as MLflow metrics ``realised.<role>.<period>.<figure>``: figures that exist."""
    numbers = [c for c in REALISED_COLUMNS if c not in (*REALISED_KEY, "note", "measured_at")]
    return {
        f"realised.{row[ROLE]}.{row[PERIOD]}.{number}": float(row[number])
        for row in rows.to_dict("records")
        for number in numbers
        if pd.notna(row[number])
    }


def log_realised_performance(realised: pd.DataFrame, promised: pd.DataFrame) -> dict[str, int]:
    """Log each version's figures to its own training run, one step per measurement."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    logged = {}
    runs = promised.dropna(subset=["run_id"]).set_index([MODEL_NAME, MODEL_VERSION])["run_id"]
    for (name, version), rows in realised.groupby([MODEL_NAME, MODEL_VERSION]):
        if (name, version) not in runs.index:
            continue
        run_id = runs.loc[(name, version)]
        metrics = realised_metrics(rows)
        # The measurement's number on this run, 0 for the first, so `mlflow ui` plots the history:
        # every measurement logs `labelled_leads` of period 'all' for each role measured.
        step = max(
            len(client.get_metric_history(run_id, f"realised.{role}.{ALL_PERIODS}.labelled_leads"))
            for role in rows[ROLE].unique()
        )
        measured_at = rows["measured_at"].max()
        timestamp = int(pd.Timestamp(measured_at).timestamp() * 1000)
        entries = [Metric(k, v, timestamp, step) for k, v in sorted(metrics.items())]
        client.log_batch(run_id, metrics=entries)  # MLflow splits it into batches it accepts
        client.set_tag(run_id, "realised.measured_at", measured_at)
        logged[f"{name} {version}"] = len(entries)
    logger.info("Logged realised figures to the training runs of %d model version(s).", len(logged))
    return logged


def _champion_rows(frame: pd.DataFrame, champion: dict) -> pd.DataFrame:
    """The rows of the champion's version in its champion role."""
    return frame.loc[
        (frame[MODEL_NAME] == champion["name"])
        & (frame[MODEL_VERSION] == champion["version"])
        & (frame[ROLE] == CHAMPION)
    ]


def measure_realised_segments(
    labelled_scores: pd.DataFrame,
    champion: dict,
    vocabulary: dict,
    city_tiers: pd.DataFrame,
    features: dict,
    params: dict,
) -> pd.DataFrame:
    """The current champion's realised figures per segment, on its champion scores.

    Levels are folded as the champion's training folded them (its vocabulary), so a segment
    means the same leads on the holdout and in the store.
    """
    if not champion:
        return segment_figures(labelled_scores.iloc[:0], 1, 1)
    mine = _champion_rows(labelled_scores, champion)
    mine = mine.assign(
        **{CITY_TIER: city_tier(mine[CITY], city_tiers, features["default_city_tier"])}
    )
    if vocabulary:
        mine = mine.assign(
            **{
                column: np.asarray(encode_levels(mine[column], vocabulary[column], features))
                for column in LEVEL_COLUMNS
                if column in mine and column in vocabulary
            }
        )
    return segment_figures(mine, params["segment_min_leads"], params["min_outcomes"])


def _champion_artifact(promised: pd.DataFrame, champion: dict, path: str) -> str | None:
    """A local copy of an artifact of the champion's train run; None when it has none."""
    import mlflow
    from mlflow.exceptions import MlflowException

    runs = promised.set_index([MODEL_NAME, MODEL_VERSION])["run_id"].dropna()
    if not champion or (champion["name"], champion["version"]) not in runs.index:
        return None
    try:
        return mlflow.artifacts.download_artifacts(
            run_id=runs.loc[(champion["name"], champion["version"])], artifact_path=path
        )
    except (MlflowException, OSError):
        logger.warning(
            "%s version %s's train run logged no %s: the segments are cut without it.",
            champion["name"],
            champion["version"],
            path,
        )
        return None


def champion_holdout_segments(promised: pd.DataFrame, champion: dict) -> pd.DataFrame:
    """The holdout segments the champion's train run logged, empty when it logged none."""
    path = _champion_artifact(promised, champion, HOLDOUT_SEGMENTS_ARTIFACT)
    if path is None:
        return pd.DataFrame(columns=["dimension", "segment", "leads", "roc_auc", "hot_precision"])
    return pd.read_csv(path, dtype={"segment": str}, keep_default_na=False, na_values=[""])


def champion_vocabulary(promised: pd.DataFrame, champion: dict) -> dict:
    """The category levels the champion's training kept, {} when its run logged none."""
    path = _champion_artifact(promised, champion, VOCABULARY_ARTIFACT)
    if path is None:
        return {}
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def compare_segments(holdout: pd.DataFrame, realised: pd.DataFrame, champion: dict) -> pd.DataFrame:
    """Holdout and realised leads, ROC AUC and hot precision per segment, side by side."""
    figures = ["leads", "roc_auc", "hot_precision"]
    keys = ["dimension", "segment"]
    holdout, realised = (
        frame[keys + figures].rename(columns={f: f"{side}_{f}" for f in figures})
        for side, frame in (("holdout", holdout), ("realised", realised))
    )
    table = pd.merge(holdout, realised, on=keys, how="outer")
    for side in ("holdout", "realised"):
        table[f"{side}_leads"] = table[f"{side}_leads"].fillna(0).astype("int64")
    table.insert(0, MODEL_VERSION, champion.get("version", ""))
    table.insert(0, MODEL_NAME, champion.get("name", ""))
    # Where most leads are is read first within a dimension; "other" last.
    order = table.assign(
        _other=table["segment"] == OTHER, _leads=table["holdout_leads"] + table["realised_leads"]
    )
    order = order.sort_values(
        ["dimension", "_other", "_leads"], ascending=[True, True, False], kind="stable"
    )
    return order.drop(columns=["_other", "_leads"]).reset_index(drop=True)


def check_champion_realised_auc(
    stored: pd.DataFrame,
    champion: dict,
    logged: dict,
    page: str,
    params: dict,
) -> None:
    """Say what was measured; stop with one line when the champion's realised ROC AUC is low.

    Takes the stored table, the MLflow log and the page so that it runs after all of them.
    """
    if not champion:
        logger.info("No lead has a champion's score yet: nothing to check.")
        return
    mine = _champion_rows(stored, champion)
    mine = mine.loc[mine[PERIOD] == ALL_PERIODS]
    version = f"{champion['name']} version {champion['version']}"
    if mine.empty or pd.isna(mine["roc_auc"].iloc[0]):
        why = "no labelled lead" if mine.empty else mine["note"].iloc[0]
        logger.info("Champion %s: no realised ROC AUC yet (%s).", version, why)
        return
    row = mine.iloc[0]
    logger.info(
        "Champion %s: realised ROC AUC %.4f on %d labelled leads (%d completers); "
        "hot precision %s. %d row(s) in realised_performance, %d version(s) logged to MLflow.",
        version,
        row["roc_auc"],
        row["labelled_leads"],
        row["completers"],
        "n/a" if pd.isna(row["hot_precision"]) else f"{row['hot_precision']:.1%}",
        len(stored),
        len(logged),
    )
    if row["roc_auc"] < params["alert_roc_auc"]:
        raise RealisedPerformanceAlertError(
            f"The champion {version} ranks its leads worse than the alert level: realised ROC "
            f"AUC {row['roc_auc']:.4f} on {row['labelled_leads']} labelled leads, below "
            f"realised_performance.alert_roc_auc = {params['alert_roc_auc']}. The figures are "
            "stored (table realised_performance) and drawn in "
            "data/08_reporting/realised_performance.html."
        )
