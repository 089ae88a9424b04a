"""Training from the store: its labelled leads of the latest months, as a labelled export."""

from __future__ import annotations

import logging

import pandas as pd

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID
from lead_scoring.datasets.lead_store import BOOKKEEPING_COLUMNS
from lead_scoring.errors import LeadScoringError

logger = logging.getLogger(__name__)


class NoLabelledLeadsError(LeadScoringError):
    """The store holds no labelled lead to train on."""


def labelled_leads_from_store(stored: pd.DataFrame, ingestion: dict, params: dict) -> pd.DataFrame:
    """The labelled leads created in the last ``window_months`` before the newest one, as an export.

    The window ends at the newest labelled lead, not today: outcomes arrive weeks after a lead,
    and an export replayed from the past trains the same way. The rows then go through the same
    ingestion and validation as a file.
    """
    if stored.empty:
        raise NoLabelledLeadsError(
            "The lead store holds no labelled lead: ingest outcome exports (lead id and "
            f"{LABEL}) into the landing folder first. Nothing was trained."
        )
    created = pd.to_datetime(stored[CREATED_DATE], errors="coerce")
    months = params["window_months"]
    if months:
        start = created.max() - pd.DateOffset(months=months)
        stored, created = stored.loc[created > start], created.loc[created > start]
    fields = [c for c in stored.columns if c not in (LEAD_ID, *BOOKKEEPING_COLUMNS)]
    export = stored[[LEAD_ID, *fields]].rename(columns={LEAD_ID: ingestion["index_column"]})
    export[LABEL] = stored[LABEL].astype("int64").astype("str")
    logger.info(
        "Training on %d labelled leads of the store created %s to %s (window: %s).",
        len(export),
        created.min(),
        created.max(),
        f"{months} months" if months else "all",
    )
    return export.reset_index(drop=True)


def report_label_changes(changes: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Say which known labels outcome exports changed since the last report; mark them reported.

    A changed label moves what the model learns: the data scientist reads this before trusting
    the new model (docs/operations.md).
    """
    report: dict = {"labels_changed": len(changes)}
    if len(changes):
        flips = changes.groupby(["previous_label", "new_label"]).size()
        report.update(
            to_completed=int(flips.get((0, 1), 0)),
            to_not_completed=int(flips.get((1, 0), 0)),
            files=sorted(changes["source_file"].dropna().unique().tolist()),
        )
        logger.warning(
            "%d label(s) changed since the last report (%d from 0 to 1, %d from 1 to 0), by %s; "
            "this training uses the new labels (the store's label_changes table lists them).",
            report["labels_changed"],
            report["to_completed"],
            report["to_not_completed"],
            ", ".join(report["files"]) or "unknown files",
        )
    else:
        logger.info("No label changed since the last report.")
    return report, changes[["change_id"]]
