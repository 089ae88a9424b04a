"""Ingest: each new landing file read once, validated as every export is, and kept in the store."""

from __future__ import annotations

import logging
import time

import pandas as pd
from kedro.io import DatasetError

from lead_scoring.datasets.landing_dataset import LandingFile
from lead_scoring.datasets.lead_store import LeadStore
from lead_scoring.errors import LeadScoringError
from lead_scoring.pipelines.ingest.lead_files import (
    is_outcome_export,
    read_landing_export,
)
from lead_scoring.store.tables import INGEST_COUNTS, REFUSED, STORED

logger = logging.getLogger(__name__)
# One line per file read, for the log file only (conf/logging.yml): a four-week backlog is 49
# files, and the terminal shows the run's totals and the files with quarantined rows.
file_logger = logging.getLogger(f"{__name__}.files")


class LandingFilesRefusedError(LeadScoringError):
    """Landing files refused whole: the others were stored; these need fixing and re-delivery."""


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines) or type(error).__name__


def is_being_written(landing_file: LandingFile, now: float, landing: dict) -> str | None:
    """Why a file looks unfinished (left for the next run), or None.

    Modified within ``settle_seconds``: a writer may still be at it. A text file whose last line
    has no line end, modified within ``unterminated_grace_minutes``: a writer stopped mid-row
    (after that, an export written without a final line end is read as it is).
    """
    age = now - landing_file.modified
    if age < landing["settle_seconds"]:
        return f"modified {age:.0f} s ago (settle_seconds {landing['settle_seconds']})"
    if age < 60 * landing["unterminated_grace_minutes"] and landing_file.ends_mid_line():
        return "its last line has no line end yet"
    return None


def _already_read(name: str, earlier: dict, report: dict) -> None:
    """Say why a file whose content the store has read is skipped, and count it."""
    if earlier["status"] == REFUSED:
        logger.warning(
            "%s is unchanged since it was refused on %s (%s); skipped until it changes.",
            name,
            earlier["ingested_at"],
            earlier["reason"],
        )
        report["still_refused"] += 1
        return
    if earlier["source_file"] != name:
        logger.info(
            "%s has the content of %s, read on %s; skipped.",
            name,
            earlier["source_file"],
            earlier["ingested_at"],
        )
    report["skipped"] += 1


def ingest_landing_files(
    landing_files: list[LandingFile],
    store: LeadStore,
    interaction_mapping: pd.DataFrame,
    ingestion: dict,
    validation: dict,
    landing: dict,
) -> dict:
    """Each landing file whose content the store has not read, stored in its own transaction."""
    reads = store.reads()
    # Plain dicts, not a Series a file: a pd.Series costs ~0.4 ms a file, iterrows ~0.05 ms a row.
    # Oldest first, so each content's latest read is the one kept.
    read_by_hash: dict[str, dict] = {row["file_hash"]: row for row in reads.to_dict("records")}
    names_read = set(reads.loc[reads["status"] == STORED, "source_file"])
    report: dict = {"counts": [], "refused": [], "deferred": []}
    report.update(skipped=0, still_refused=0, reread=0)
    now = time.time()
    outcome_files = []
    for landing_file in landing_files:
        unfinished = is_being_written(landing_file, now, landing)
        if unfinished:
            logger.info("%s is left for the next run: %s.", landing_file.name, unfinished)
            report["deferred"].append(landing_file.name)
            continue
        # Hashed before it is read: rows a writer appends after this are a change of content
        # the next run sees and reads, never rows lost.
        file_hash = landing_file.content_hash()
        if file_hash in read_by_hash:
            _already_read(landing_file.name, read_by_hash[file_hash], report)
            continue
        try:
            raw = landing_file.load()
            # The store keys the read by the bytes' hash: hashing the cells too cost 4 to 6 ms.
            lead_file = read_landing_export(
                landing_file.name, raw, interaction_mapping, ingestion, validation, file_hash
            )
        except (LeadScoringError, DatasetError) as error:
            reason = _one_line(error)
            if landing_file.name not in reason:
                reason = f"Landing file {landing_file.name}: {reason}"
            read_by_hash[file_hash] = store.record_refused(landing_file.name, file_hash, reason)
            report["refused"].append(reason)
            continue
        # A copy of a file met earlier in this run is skipped like one read by an earlier run.
        read_by_hash[file_hash] = {
            "source_file": landing_file.name,
            "status": STORED,
            "ingested_at": "this run",
        }
        if landing_file.name in names_read:
            logger.warning(
                "%s changed since it was read; reading it again: its new and changed leads "
                "are stored.",
                landing_file.name,
            )
            report["reread"] += 1
        # Lead files first, so an outcome meets its lead if it came in the same run.
        if is_outcome_export(raw):
            outcome_files.append(lead_file)
        else:
            report["counts"].append(store.ingest_file(lead_file))
    for lead_file in outcome_files:
        report["counts"].append(store.ingest_file(lead_file))
    report["leads_stored"] = store.count("leads")
    report["outcomes_waiting"] = store.count("pending_outcomes")
    return report


def summarise_ingest(report: dict) -> dict:
    """The run's totals in the log; stop with one line per landing file refused this run."""
    for log in report["counts"]:
        (logger if log["quarantined"] else file_logger).info(
            "%s: %d rows read, %d new, %d updated, %d unchanged, %d quarantined, "
            "%d labels filled (%d changed), %d outcomes pending, %d pending applied",
            log["source_file"],
            *(log[c] for c in INGEST_COUNTS),
        )
    totals = {c: sum(int(log[c]) for log in report["counts"]) for c in INGEST_COUNTS}
    totals.update(
        files=len(report["counts"]),
        files_reread=report["reread"],
        files_deferred=len(report["deferred"]),
        files_refused=len(report["refused"]),
        files_still_refused=report["still_refused"],
        files_skipped=report["skipped"],
        leads_stored=report["leads_stored"],
        outcomes_waiting=report["outcomes_waiting"],
    )
    if not totals["files"] and not totals["files_refused"]:
        logger.info(
            "No new landing files; the store holds %d leads (%d deferred, %d already read).",
            totals["leads_stored"],
            totals["files_deferred"],
            totals["files_skipped"],
        )
    else:
        logger.info(
            "Ingested %d file(s) (%d read again, %d deferred, %d refused): %d rows read, "
            "%d new leads, %d updated, %d unchanged, %d quarantined, %d labels filled, "
            "%d labels changed, %d outcomes pending, %d pending outcomes applied; the store "
            "holds %d leads.",
            totals["files"],
            totals["files_reread"],
            totals["files_deferred"],
            totals["files_refused"],
            *(totals[c] for c in INGEST_COUNTS),
            totals["leads_stored"],
        )
    if report["refused"]:
        raise LandingFilesRefusedError(
            f"{len(report['refused'])} landing file(s) refused, nothing of them stored "
            f"(the other {totals['files']} file(s) were):\n" + "\n".join(report["refused"])
        )
    return totals
