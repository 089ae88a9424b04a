"""Ingest: each new landing file read once, validated as every export is, and kept in the store."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace

import numpy as np
import pandas as pd
from kedro.io import DatasetError

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID, QUARANTINE_COLUMNS, REQUIRED_RULE
from lead_scoring.datasets.landing_dataset import LandingFile
from lead_scoring.datasets.lead_store import LeadFile, LeadStore
from lead_scoring.errors import EmptyExportError, LeadScoringError
from lead_scoring.pipelines.ingestion import normalise_raw_leads
from lead_scoring.pipelines.validation import parse_numbers, validate_raw_leads
from lead_scoring.store.tables import REFUSED, STORED

logger = logging.getLogger(__name__)


def frame_hash(frame: pd.DataFrame) -> str:
    """A fingerprint of a file's cells, to tell a re-delivered file from one already ingested."""
    cells = pd.util.hash_pandas_object(frame.astype("str"), index=False).to_numpy()
    names = "\x1f".join(map(str, frame.columns)).encode("utf-8")
    return hashlib.sha1(names + cells.tobytes()).hexdigest()


def _column_names(raw: pd.DataFrame) -> list[str]:
    return [str(name).strip().lstrip("\ufeff") for name in raw.columns]


def is_outcome_export(raw: pd.DataFrame) -> bool:
    """An outcome export carries a lead id and the label, not the lead's fields."""
    names = _column_names(raw)
    return LABEL in names and CREATED_DATE not in names


def _stable_lead_ids(fields: pd.DataFrame) -> pd.Series:
    """Without the export's index, a lead is known by a hash of its fields (docs/operations.md)."""
    text = fields.astype("object").where(fields.notna(), "").astype("str")
    joined = text.iloc[:, 0].str.cat(text.iloc[:, 1:], sep="\x1f")
    return pd.Series(
        ["h" + hashlib.sha1(v.encode("utf-8")).hexdigest()[:16] for v in joined],
        index=fields.index,
    )


def _repeated_ids(leads: pd.DataFrame) -> pd.DataFrame:
    """Rows whose lead id comes again later in the same file: the last delivery counts."""
    repeated = leads.loc[leads[LEAD_ID].duplicated(keep="last")]
    return pd.DataFrame(
        {
            "row": repeated.index.astype("int64"),
            LEAD_ID: repeated[LEAD_ID].to_numpy(),
            "column": LEAD_ID,
            "rule": "unique lead_id",
            "value": repeated[LEAD_ID].to_numpy(),
            "reason": "lead_id: repeated later in the same file, which was kept (got "
            + repeated[LEAD_ID].astype("str")
            + ")",
        },
        columns=QUARANTINE_COLUMNS,
    )


def read_lead_file(
    name: str,
    raw: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    ingestion: dict,
    validation: dict,
) -> LeadFile:
    """One landing export through today's ingestion and validation: valid leads and quarantine."""
    has_index = ingestion["index_column"] in _column_names(raw)
    normalised = normalise_raw_leads(raw, interaction_mapping, ingestion)
    try:
        valid, quarantine = validate_raw_leads(
            normalised, interaction_mapping, validation, label_required=False
        )
    except EmptyExportError:
        logger.warning("%s has a header but no leads.", name)
        return LeadFile(name, frame_hash(raw), 0)
    except LeadScoringError as error:
        raise type(error)(f"Landing file {name}: {error}") from error
    fields = [c for c in normalised.columns if c not in (LEAD_ID, LABEL)]
    leads = normalised.loc[valid.index, [LEAD_ID, *fields]]
    if not has_index:
        leads[LEAD_ID] = _stable_lead_ids(leads[fields])
    if LABEL in valid:
        leads[LABEL] = valid[LABEL].astype("Int64")
    repeated = _repeated_ids(leads)
    leads = leads.drop(index=repeated.index.to_numpy()) if len(repeated) else leads
    quarantine = pd.concat([q for q in (quarantine, repeated) if len(q)] or [quarantine])
    return LeadFile(
        name,
        frame_hash(raw),
        len(raw),
        leads=leads.astype({c: "object" for c in fields}).reset_index(drop=True),
        quarantine=quarantine.reset_index(drop=True),
    )


def read_outcome_file(name: str, raw: pd.DataFrame, ingestion: dict) -> LeadFile:
    """An outcome export: each lead id with its 0/1 label; anything else is quarantined."""
    raw = raw.set_axis(_column_names(raw), axis=1)
    id_column = ingestion["index_column"] if ingestion["index_column"] in raw else LEAD_ID
    if id_column not in raw:
        raise LeadScoringError(
            f"Landing file {name}: an outcome export needs a lead id column (unnamed first "
            f"column or '{LEAD_ID}') beside {LABEL}. Nothing was written."
        )
    lead_ids = raw[id_column].astype("object").where(raw[id_column].notna(), None)
    lead_ids = lead_ids.map(lambda v: v.strip() if isinstance(v, str) else v)
    label = parse_numbers(raw[LABEL])
    valid = np.isin(label.to_numpy(), [0, 1]) & lead_ids.notna().to_numpy()
    bad = raw.loc[~valid]
    quarantine = pd.DataFrame(
        {
            "row": bad.index.astype("int64"),
            LEAD_ID: lead_ids[~valid].to_numpy(),
            "column": np.where(lead_ids[~valid].isna(), LEAD_ID, LABEL),
            "rule": np.where(lead_ids[~valid].isna(), REQUIRED_RULE, "0 or 1"),
            "value": bad[LABEL].astype("object").to_numpy(),
        },
        columns=QUARANTINE_COLUMNS,
    )
    quarantine["reason"] = (
        quarantine["column"]
        + ": "
        + quarantine["rule"]
        + " (got "
        + quarantine["value"].astype("str")
        + ")"
    )
    outcomes = pd.DataFrame({LEAD_ID: lead_ids[valid], LABEL: label[valid].astype("int64")})
    repeated = _repeated_ids(outcomes)
    outcomes = outcomes.drop(index=repeated.index.to_numpy())
    quarantine = pd.concat([q for q in (quarantine, repeated) if len(q)] or [quarantine])
    return LeadFile(name, frame_hash(raw), len(raw), outcomes=outcomes, quarantine=quarantine)


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


def _parse(
    landing_file: LandingFile, ingestion: dict, validation: dict, mapping
) -> tuple[LeadFile, bool]:
    """The file read by the identity and validation rules, and whether it is an outcome export."""
    raw = landing_file.load()
    if is_outcome_export(raw):
        return read_outcome_file(landing_file.name, raw, ingestion), True
    return read_lead_file(landing_file.name, raw, mapping, ingestion, validation), False


def _already_read(name: str, earlier: pd.Series, report: dict) -> None:
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
    read_by_hash = {
        row["file_hash"]: row
        for _, row in reads.drop_duplicates("file_hash", keep="last").iterrows()
    }
    names_read = set(reads.loc[reads["status"] == STORED, "source_file"])
    report: dict = {"counts": [], "refused": [], "deferred": [], "skipped": 0}
    report.update(still_refused=0, reread=0)
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
            lead_file, is_outcomes = _parse(
                landing_file, ingestion, validation, interaction_mapping
            )
        except (LeadScoringError, DatasetError) as error:
            reason = _one_line(error)
            if landing_file.name not in reason:
                reason = f"Landing file {landing_file.name}: {reason}"
            refused = store.record_refused(LeadFile(landing_file.name, file_hash, 0), reason)
            read_by_hash[file_hash] = pd.Series(refused)
            report["refused"].append(reason)
            continue
        lead_file = replace(lead_file, file_hash=file_hash)
        # A copy of a file met earlier in this run is skipped like one read by an earlier run.
        read_by_hash[file_hash] = pd.Series(
            {"source_file": landing_file.name, "status": STORED, "ingested_at": "this run"}
        )
        if landing_file.name in names_read:
            logger.warning(
                "%s changed since it was read; reading it again: its new and changed leads "
                "are stored.",
                landing_file.name,
            )
            report["reread"] += 1
        # Lead files first, so an outcome meets its lead if it came in the same run.
        if is_outcomes:
            outcome_files.append(lead_file)
        else:
            report["counts"].append(store.ingest_file(lead_file))
    for lead_file in outcome_files:
        report["counts"].append(store.ingest_file(lead_file))
    report["leads_stored"] = store.count("leads")
    report["outcomes_waiting"] = store.count("pending_outcomes")
    return report


_COUNTS = [
    "rows_read",
    "leads_new",
    "leads_updated",
    "leads_unchanged",
    "quarantined",
    "labels_filled",
    "labels_changed",
    "outcomes_pending",
    "pending_applied",
]


def summarise_ingest(report: dict) -> dict:
    """The run's totals in the log; stop with one line per landing file refused this run."""
    for log in report["counts"]:
        logger.info(
            "%s: %d rows read, %d new, %d updated, %d unchanged, %d quarantined, "
            "%d labels filled (%d changed), %d outcomes pending, %d pending applied",
            log["source_file"],
            *(log[c] for c in _COUNTS),
        )
    totals = {c: sum(int(log[c]) for log in report["counts"]) for c in _COUNTS}
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
            *(totals[c] for c in _COUNTS[:-2]),
            totals["outcomes_pending"],
            totals["pending_applied"],
            totals["leads_stored"],
        )
    if report["refused"]:
        raise LandingFilesRefusedError(
            f"{len(report['refused'])} landing file(s) refused, nothing of them stored "
            f"(the other {totals['files']} file(s) were):\n" + "\n".join(report["refused"])
        )
    return totals
