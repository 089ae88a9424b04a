"""Ingest: each new landing file read once, validated as every export is, and kept in the store."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID, QUARANTINE_COLUMNS, REQUIRED_RULE
from lead_scoring.datasets.lead_store import LeadFile, LeadStore
from lead_scoring.errors import EmptyExportError, LeadScoringError
from lead_scoring.pipelines.ingestion import normalise_raw_leads
from lead_scoring.pipelines.validation import parse_numbers, validate_raw_leads

logger = logging.getLogger(__name__)

FILE_SUFFIX = ".csv"


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
