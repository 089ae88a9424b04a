"""score_new: stored leads the champion has not scored yet, scored and checked for drift."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from lead_scoring.contract import CREATED_DATE, LEAD_ID, TIERS
from lead_scoring.datasets.lead_export_dataset import REJECTED_COLUMNS, ExportChunk
from lead_scoring.datasets.lead_store import (
    BOOKKEEPING_COLUMNS,
    CONTENT_HASH,
    MODEL_NAME,
    MODEL_VERSION,
    LeadStore,
    ScoreBatch,
    now_utc,
)
from lead_scoring.errors import RetrainingAlertError
from lead_scoring.pipelines import batch_scoring
from lead_scoring.pipelines import monitoring as monitoring_stage

logger = logging.getLogger(__name__)


class ScoreRunAlertError(RetrainingAlertError):
    """The scores are stored, but their drift or tier shares passed a threshold."""


class StoredLeads:
    """Leads from the store read as an export is: ``read(rows)`` chunks of raw text frames.

    Stored leads have no line in a file being read (the store keeps their source file and row),
    and the store holds no line a reader could reject.
    """

    def __init__(self, leads: pd.DataFrame) -> None:
        self.leads = leads

    def read(self, rows: int) -> Iterator[ExportChunk]:
        for start in range(0, len(self.leads), rows):
            chunk = self.leads.iloc[start : start + rows]
            yield ExportChunk(
                chunk,
                np.full(len(chunk), pd.NA, dtype=object),
                pd.DataFrame(columns=REJECTED_COLUMNS),
            )


def select_leads_to_score(store: LeadStore, model_version: dict, params: dict) -> pd.DataFrame:
    """Stored leads the model version has not scored as they stand, with the recent window."""
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


def score_stored_leads(
    model: PyFuncModel,
    leads: pd.DataFrame,
    model_version: dict,
    reference: dict,
    settings: dict,
    ingestion: dict,
    monitoring: dict,
) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """The leads through the registered model, as batch scoring runs it: scores, quarantine,
    counts, and the drift profile of what the model scored."""
    fields = store_fields(leads)
    export = leads[[LEAD_ID, *fields]].rename(columns={LEAD_ID: ingestion["index_column"]})
    export.index = pd.RangeIndex(len(export))
    scored, quarantined, tally, profile = [], [], None, None
    if len(export):
        for chunk in batch_scoring.score_export(
            model, StoredLeads(export), model_version, settings
        ):
            scored_chunk, quarantine_chunk = batch_scoring.split_predictions(
                chunk.rows, rejected=chunk.rejected
            )
            scored.append(scored_chunk)
            quarantined.append(quarantine_chunk)
            tally = batch_scoring.add_tallies(tally, batch_scoring.tally_scored_chunk(chunk))
            chunk_profile = monitoring_stage.profile_scored_chunk(chunk.rows, reference, monitoring)
            if chunk_profile is not None:
                profile = (
                    chunk_profile
                    if profile is None
                    else monitoring_stage.add_profiles(profile, chunk_profile)
                )
    scores = pd.concat(scored) if scored else pd.DataFrame(columns=[LEAD_ID])
    quarantine = pd.concat(quarantined) if quarantined else pd.DataFrame(columns=[LEAD_ID])
    hashes = leads.set_index(LEAD_ID)[CONTENT_HASH] if len(leads) else pd.Series(dtype="object")
    scores[CONTENT_HASH] = scores[LEAD_ID].map(hashes)
    tally = tally or {"read": 0, "scored": 0, "quarantined": 0}
    return scores, quarantine, tally, profile or {}


def store_fields(leads: pd.DataFrame) -> list[str]:
    """The export's fields among a stored lead's columns."""
    return [c for c in leads.columns if c not in (LEAD_ID, *BOOKKEEPING_COLUMNS)]


def record_score_run(
    scores: pd.DataFrame,
    quarantine: pd.DataFrame,
    tally: dict,
    leads: pd.DataFrame,
    drift_report: dict,
    model_version: dict,
) -> tuple[ScoreBatch, dict]:
    """The run's scores, quarantine and log row, for the store to write in one transaction."""
    run_id, at = uuid.uuid4().hex, now_utc()
    tiers = scores["tier"].value_counts(normalize=True) if len(scores) else pd.Series(dtype=float)
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
    }
    reasons = [c for c in ("reason_1", "reason_2", "reason_3") if c in scores]
    rows = pd.DataFrame(
        {
            LEAD_ID: scores[LEAD_ID].to_numpy(),
            MODEL_NAME: model_version["name"],
            MODEL_VERSION: str(model_version["version"]),
            "scored_at": at,
            "probability": scores["probability"].astype("float64").to_numpy()
            if len(scores)
            else [],
            "score": scores["score"].to_numpy() if len(scores) else [],
            "tier": scores["tier"].to_numpy() if len(scores) else [],
            **{c: scores[c].to_numpy() for c in reasons},
            CREATED_DATE: scores[CREATED_DATE].astype("str").to_numpy() if len(scores) else [],
            CONTENT_HASH: scores[CONTENT_HASH].to_numpy() if len(scores) else [],
            "run_id": run_id,
        }
    )
    quarantined = pd.DataFrame(
        {
            "source_file": f"score_new {run_id}",
            "row": quarantine["row"].astype("int64").to_numpy() if len(quarantine) else [],
            LEAD_ID: quarantine[LEAD_ID].to_numpy() if len(quarantine) else [],
            "reason": quarantine["reason"].to_numpy() if len(quarantine) else [],
            "ingested_at": at,
        }
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


def check_score_run(store: LeadStore, run: dict, drift_report: dict, params: dict) -> dict:
    """Say what the run did; stop with one line when drift or tier shares pass a threshold."""
    version = f"{run[MODEL_NAME]} version {run[MODEL_VERSION]}"
    if run["leads_selected"] == 0:
        logger.info(
            "Nothing new to score: every one of the store's %d leads is scored by %s.",
            store.count("leads"),
            version,
        )
        return run
    logger.info(
        "Scored %d lead(s) with %s (%d rescored after a new champion), %d quarantined; "
        "tiers: hot %.1f%%, warm %.1f%%, cold %.1f%%. The store holds %d scores.",
        run["leads_scored"],
        version,
        run["rescored"],
        run["leads_quarantined"],
        *(100 * run[f"{tier}_share"] for tier in TIERS),
        store.count("scored_leads"),
    )
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
    if problems:
        raise ScoreRunAlertError(
            f"The {run['leads_scored']} new scores are stored, but "
            + "; and ".join(problems)
            + ". See data/08_reporting/score_new_drift_report.json and the store's score_log."
        )
    return run
