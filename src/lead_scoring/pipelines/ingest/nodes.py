"""Ingest: each new landing file read once, validated as every export is, and kept in the store."""

from __future__ import annotations

import logging

import pandas as pd

from lead_scoring.datasets.lead_store import LeadFile, LeadStore
from lead_scoring.pipelines.ingest.lead_files import (
    frame_hash,
    is_outcome_export,
    read_lead_file,
    read_outcome_file,
)

__all__ = [
    "frame_hash",
    "is_outcome_export",
    "read_landing_files",
    "read_lead_file",
    "read_outcome_file",
    "summarise_ingest",
]

logger = logging.getLogger(__name__)

FILE_SUFFIX = ".csv"


def read_landing_files(
    landing_exports: dict[str, pd.DataFrame],
    store: LeadStore,
    interaction_mapping: pd.DataFrame,
    ingestion: dict,
    validation: dict,
) -> tuple[list[LeadFile], list[str]]:
    """Every new landing file, read and validated; files the store already holds are skipped."""
    ingested = store.ingested_files()
    files = []
    for partition in sorted(landing_exports):
        name = f"{partition}{FILE_SUFFIX}"
        raw = landing_exports[partition]
        if ingested.get(name) == frame_hash(raw):
            logger.info("%s is already in the store; skipped.", name)
            continue
        if is_outcome_export(raw):
            files.append(read_outcome_file(name, raw, ingestion))
        else:
            files.append(read_lead_file(name, raw, interaction_mapping, ingestion, validation))
    return files, [f.source_file for f in files]


def summarise_ingest(store: LeadStore, source_files: list[str]) -> dict:
    """Each file's counts as the store recorded them, and the run's totals, in the log."""
    log = store.table("ingest_log")
    log = log.loc[log["source_file"].isin(source_files)].set_index("source_file")
    counts = ["rows_read", "leads_new", "leads_updated", "leads_unchanged", "quarantined"]
    for name, row in log.iterrows():
        logger.info(
            "%s: %d rows read, %d new, %d updated, %d unchanged, %d quarantined, %d labels filled",
            name,
            *(row[c] for c in counts),
            row["labels_filled"],
        )
    totals = {c: int(log[c].sum()) for c in [*counts, "labels_filled"]}
    totals["files"] = len(log)
    totals["leads_stored"] = store.count("leads")
    if not source_files:
        logger.info("No new landing files; the store holds %d leads.", totals["leads_stored"])
    else:
        logger.info(
            "Ingested %d file(s): %d rows read, %d new leads, %d updated, %d unchanged, "
            "%d quarantined, %d labels filled; the store holds %d leads.",
            totals["files"],
            *(totals[c] for c in counts),
            totals["labels_filled"],
            totals["leads_stored"],
        )
    return totals
