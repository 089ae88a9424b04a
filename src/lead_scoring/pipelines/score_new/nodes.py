"""score_new: stored leads the champion has not scored yet, scored and checked for drift.

When the registry holds a ``challenger`` the same run scores its due leads too, in shadow: its
scores are stored with role ``challenger`` and nothing a rep or an alert reads comes from them.
"""

from __future__ import annotations

import logging
import uuid

import pandas as pd

from lead_scoring.contract import (
    CHALLENGER,
    CHAMPION,
    CREATED_DATE,
    LEAD_ID,
    SCORED,
    SCORING_QUARANTINE_COLUMNS,
    TIERS,
)
from lead_scoring.datasets.lead_store import DueLeads
from lead_scoring.datasets.scored_chunks_dataset import EXPORT_PREFIX, ScoredChunks
from lead_scoring.errors import RetrainingAlertError
from lead_scoring.heavy_types import PyFuncModel
from lead_scoring.pipelines import batch_scoring
from lead_scoring.pipelines.training import from_unix_days
from lead_scoring.store import LeadStore, ScoreBatch, now_utc, role_queries
from lead_scoring.store.tables import CONTENT_HASH, MODEL_NAME, MODEL_VERSION, ROLE, SCORE_COLUMNS

logger = logging.getLogger(__name__)


class ScoreRunAlertError(RetrainingAlertError):
    """The scores are stored, but their drift or tier shares passed a threshold."""

    # The run's call list describes scores now in the store: it is published all the same.
    outputs_stored = True


def _due_leads(store: LeadStore, model_version: dict, params: dict) -> pd.DataFrame:
    leads = store.leads_to_score(
        model_version["name"], model_version["version"], params["rescore_window_days"]
    )
    logger.info(
        "%d stored lead(s) to score with %s version %s (%d rescored in the %s-day window).",
        len(leads),
        model_version["name"],
        model_version["version"],
        leads.attrs.get("rescored", 0),
        params["rescore_window_days"],
    )
    return leads


def select_leads_to_score(store: LeadStore, model_version: dict, params: dict) -> DueLeads:
    """Stored leads the model version has not scored as they stand, with the recent window."""
    leads = _due_leads(store, model_version, params)
    # A challenger promoted to champion scored the recent leads in shadow: scored again as
    # champion, they reach the call queue, which lists champion scores only.
    shadowed = role_queries.leads_scored_in_shadow(
        store, model_version["name"], model_version["version"], params["rescore_window_days"]
    )
    shadowed = shadowed.loc[~shadowed[LEAD_ID].isin(leads[LEAD_ID])]
    if len(shadowed):
        logger.info(
            "%d more scored in shadow by this version while it was the challenger: scored "
            "again as champion.",
            len(shadowed),
        )
        rescored = leads.attrs.get("rescored", 0) + len(shadowed)
        leads = pd.concat([leads, shadowed[leads.columns]] if len(leads) else [shadowed])
        leads = leads.reset_index(drop=True)
        leads.attrs["rescored"] = rescored
    return DueLeads(leads)


def collect_scores(chunks: ScoredChunks, leads: DueLeads) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run's scored leads, each with the content it was scored in, and its quarantine, whole:
    the store writes them in one transaction."""
    scored = list(batch_scoring.list_scored_leads(chunks))
    quarantined = list(batch_scoring.list_quarantined_leads(chunks))
    # No chunk at all when no lead is due: the empty tables still have their columns.
    scores = pd.concat(scored or [pd.DataFrame(columns=[LEAD_ID, CREATED_DATE, *SCORE_COLUMNS])])
    quarantine = pd.concat(quarantined or [pd.DataFrame(columns=SCORING_QUARANTINE_COLUMNS)])
    hashes = leads.leads.set_index(LEAD_ID)[CONTENT_HASH] if len(leads.leads) else {}
    scores[CONTENT_HASH] = scores[LEAD_ID].map(hashes)
    return scores.reset_index(drop=True), quarantine


def record_score_run(
    scores: pd.DataFrame,
    quarantine: pd.DataFrame,
    tally: dict,
    due: DueLeads,
    drift_report: dict,
    model_version: dict,
    role: str = CHAMPION,
) -> tuple[ScoreBatch, dict]:
    """The run's scores, quarantine and log row, for the store to write in one transaction."""
    run_id, at, leads = uuid.uuid4().hex, now_utc(), due.leads
    tiers = scores["tier"].value_counts(normalize=True)
    features = drift_report.get("features", {})
    psis = {name: f["psi"] for name, f in features.items() if f.get("psi") is not None}
    drifting = [name for name, f in features.items() if f.get("status") == "drift"]
    run = {
        "run_id": run_id,
        "scored_at": at,
        MODEL_NAME: model_version["name"],
        MODEL_VERSION: str(model_version["version"]),
        "leads_selected": len(leads),
        "leads_scored": int(tally["scored"]),
        "leads_quarantined": int(tally["quarantined"]),
        "rescored": int(leads.attrs.get("rescored", 0)),
        **{f"{tier}_share": float(tiers.get(tier, 0.0)) for tier in TIERS},
        "max_psi": max(psis.values()) if psis else None,
        "drifting_features": ",".join(drifting),
        ROLE: role,
    }
    reasons = [c for c in ("reason_1", "reason_2", "reason_3") if c in scores]
    rows = (
        scores[[LEAD_ID, "probability", "score", "tier", *reasons, CREATED_DATE, CONTENT_HASH]]
        .astype({"probability": "float64", CREATED_DATE: "str"})
        .assign(
            **{key: run[key] for key in (MODEL_NAME, MODEL_VERSION, "scored_at", "run_id", ROLE)}
        )
    )
    quarantined = (
        quarantine[["row", LEAD_ID, "reason"]]
        .astype({"row": "int64"})
        .assign(source_file=f"score_new {run_id}", ingested_at=at)
    )
    return ScoreBatch(rows, quarantined, run if len(leads) else None), run


def _tier_share_breach(store: LeadStore, run: dict, params: dict) -> str | None:
    previous = store.recent_score_runs(run[MODEL_NAME], run["run_id"], params["tier_share_runs"])
    previous = previous.loc[previous["leads_scored"] >= params["tier_share_min_leads"]]
    if (
        run["leads_scored"] < params["tier_share_min_leads"]
        or len(previous) < params["tier_share_min_runs"]
    ):
        return None
    for tier in TIERS:
        usual = float(previous[f"{tier}_share"].mean())
        if abs(run[f"{tier}_share"] - usual) > params["max_tier_share_change"]:
            return (
                f"the {tier} tier took {run[f'{tier}_share']:.1%} of the leads against "
                f"{usual:.1%} over the last {len(previous)} runs (more than "
                f"{params['max_tier_share_change']:.0%} apart)"
            )
    return None


def drifting_features(drift_report: dict, alert: dict) -> list[str]:
    """Features, score included, whose PSI passes score_new's alert level for them."""
    drifting = []
    for name, feature in drift_report.get("features", {}).items():
        judged = feature.get("status") in ("stable", "watch", "drift")
        if not judged or name in alert["ignore_features"]:
            continue
        level = alert["score_psi"] if feature["kind"] in ("score", "tier") else alert["feature_psi"]
        if feature["psi"] > level:
            drifting.append(name)
    return drifting


def score_run_alerts(store: LeadStore, run: dict, drift_report: dict, params: dict) -> list[str]:
    """What in the champion's run passes an alert level: drifting features, tier shares."""
    if run["leads_selected"] == 0:
        return []
    problems = []
    drifting = drifting_features(drift_report, params["drift_alert"])
    if drifting:
        features = drift_report["features"]
        worst = max(drifting, key=lambda name: features[name]["psi"])
        problems.append(
            f"{len(drifting)} feature(s) drift from the model's training data past the alert "
            f"levels, worst {worst} with PSI {features[worst]['psi']:.3f}"
        )
    tier_breach = _tier_share_breach(store, run, params)
    if tier_breach:
        problems.append(tier_breach)
    return problems


def check_score_run(
    store: LeadStore, run: dict, alerts: list[str], shadow_run: dict, calls: int
) -> dict:
    """Say what the run did; stop with one line when drift or tier shares pass a threshold."""
    version = f"{run[MODEL_NAME]} version {run[MODEL_VERSION]}"
    if shadow_run.get("leads_selected"):
        logger.info(
            "Challenger %s version %s scored %d lead(s) in shadow (role challenger): not in "
            "the call list, the alerts or the tier-share check.",
            shadow_run[MODEL_NAME],
            shadow_run[MODEL_VERSION],
            shadow_run["leads_scored"],
        )
    if run["leads_selected"] == 0:
        logger.info(
            "Nothing new to score: every one of the store's %d leads is scored by %s.",
            store.count("leads"),
            version,
        )
        return run
    logger.info(
        "Scored %d lead(s) with %s (%d rescored after a new champion), %d quarantined; "
        "tiers: hot %.1f%%, warm %.1f%%, cold %.1f%%. The store holds %d scores; the call list "
        "holds %d.",
        run["leads_scored"],
        version,
        run["rescored"],
        run["leads_quarantined"],
        *(100 * run[f"{tier}_share"] for tier in TIERS),
        store.count("scored_leads"),
        calls,
    )
    if alerts:
        raise ScoreRunAlertError(
            f"The {run['leads_scored']} new scores are stored, but "
            + "; and ".join(alerts)
            + ". See data/08_reporting/score_new_drift_report.json and the store's score_log."
        )
    return run


# --- the run's call list ----------------------------------------------------------------------


def describe_model_training(model_version: dict) -> dict:
    """What the scoring version was trained on, from its MLflow run: leads, newest, run name."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    if not model_version.get("run_id"):
        return {"trained_on": f"local model {model_version.get('uri')}"}
    try:
        run = MlflowClient().get_run(model_version["run_id"])
    except MlflowException:
        return {"trained_on": f"MLflow run {model_version['run_id']} (not found)"}
    metrics = run.data.metrics
    leads, newest = metrics.get("registered.leads"), metrics.get("registered.newest_lead_unix_days")
    parts = [f"{int(leads):,} labelled leads" if leads is not None else "labelled leads"]
    if newest is not None:
        parts.append(f"created up to {from_unix_days(newest):%Y-%m-%d}")
    parts.append(f"run '{run.info.run_name}'")
    return {"trained_on": " ".join(parts)}


def list_new_calls(
    scores: pd.DataFrame,
    due: DueLeads,
    model_version: dict,
    training: dict,
    alerts: list[str],
) -> tuple[pd.DataFrame, int]:
    """The champion's scores of this run as the batch call list's rows, best first, with the
    model version, its training data and any alert the batch passed; and how many rows."""
    if scores.empty:
        # A run with nothing to score writes the call list's header: no call from this run.
        scores = pd.DataFrame(columns=[*SCORE_COLUMNS, LEAD_ID, CREATED_DATE])
    origin = due.leads.set_index(LEAD_ID).reindex(scores[LEAD_ID])
    rows = scores.drop(columns=["line"], errors="ignore").assign(status=SCORED)
    for field in batch_scoring.ORIGIN_FIELDS:
        rows[f"{EXPORT_PREFIX}{field}"] = origin[field].to_numpy() if field in origin else pd.NA
    calls = batch_scoring.call_list_rows(rows.reset_index(drop=True)).assign(
        model_name=model_version["name"],
        model_version=str(model_version["version"]),
        trained_on=training["trained_on"],
        alert="; ".join(alerts),
    )
    calls = calls.sort_values(["score", "probability"], ascending=False, kind="stable")
    return calls.reset_index(drop=True), len(calls)


# --- the challenger, in shadow ----------------------------------------------------------------


def find_challenger_version(champion: dict, params: dict) -> dict:
    """The version the ``challenger`` alias names, or {} when none or it is the champion."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    if champion.get("run_id") is None:
        return {}
    try:
        found = MlflowClient().get_model_version_by_alias(params["name"], CHALLENGER)
    except MlflowException:
        return {}
    if str(found.version) == str(champion["version"]):
        return {}
    return {
        "name": params["name"],
        "version": str(found.version),
        "run_id": found.run_id,
        "uri": f"models:/{params['name']}/{found.version}",
    }


def select_challenger_leads(store: LeadStore, challenger: dict, params: dict) -> DueLeads:
    """The stored leads the challenger has not scored: the champion's due leads, and the
    recent window's, so a new challenger shadows the leads reps work on from its first run."""
    if not challenger:
        return DueLeads(pd.DataFrame(columns=[LEAD_ID]))
    return DueLeads(_due_leads(store, challenger, params))


class NoChallengerModel:
    """The challenger's model when it has no lead to score: batch scoring never asks it."""


def load_challenger_model(challenger: dict, due: DueLeads) -> PyFuncModel | NoChallengerModel:
    """The challenger's registered model, loaded only when it has leads to score."""
    if not challenger or due.leads.empty:
        return NoChallengerModel()
    return batch_scoring.load_scoring_model(challenger)


def record_challenger_run(
    scores: pd.DataFrame, tally: dict, due: DueLeads, challenger: dict
) -> tuple[ScoreBatch, dict]:
    """The challenger's scores and log row with role ``challenger``; {} when it scored nothing.

    Its quarantine is the champion's: both read the same leads through the same validation.
    """
    if not challenger or due.leads.empty:
        return ScoreBatch(pd.DataFrame(), pd.DataFrame(), None), {}
    no_quarantine = pd.DataFrame(columns=SCORING_QUARANTINE_COLUMNS)
    return record_score_run(scores, no_quarantine, tally, due, {}, challenger, role=CHALLENGER)
