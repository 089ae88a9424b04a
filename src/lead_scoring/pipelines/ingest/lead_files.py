"""Who a lead is: one delivered file read into the leads or outcomes it holds, each under its key.

A lead's key is the export's explicit id column (``lead_id``, ``ingestion.lead_id_column``)
when it has one, whatever else the file carries. Pandas' unnamed index is a row number that
restarts in every file, so it never keys a lead: an export without an id column is keyed by
``natural_lead_keys`` (its creation time and origin, contract.KEY_COLUMNS). Rows of one file
under one key are the same lead once when every field is equal, and a collision that refuses the
whole file when they differ. Outcome exports follow the same rules. docs/operations.md,
"Identity", is the user's account of it.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

from lead_scoring import errors
from lead_scoring.contract import (
    CITY,
    CREATED_DATE,
    EXPORT_TEXT,
    KEY_COLUMNS,
    LABEL,
    LEAD_ID,
    LEVEL_COLUMNS,
    LINE,
    ORIGIN_COLUMNS,
    QUARANTINE_COLUMNS,
    REQUIRED_RULE,
    SOURCE_ROW,
    natural_lead_keys,
)
from lead_scoring.datasets.lead_store import LeadFile
from lead_scoring.datasets.raw_leads_dataset import REJECTED_LINES, record_lines
from lead_scoring.errors import (
    LeadKeyCollisionError,
    LeadScoringError,
    UnkeyedOutcomesError,
)
from lead_scoring.pipelines.ingestion import normalise_raw_leads
from lead_scoring.pipelines.validation import (
    TIMESTAMP_RULE,
    parse_numbers,
    parse_timestamps,
    validate_raw_leads,
)

logger = logging.getLogger(__name__)

REPEATED_RULE = "once per file"
LABEL_RULE = "0 or 1"
# Lines named in a one-line refusal; the rest are counted.
_LINES_NAMED = 5
_CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"
# An outcome export has no interaction columns to normalise.
_NO_INTERACTIONS = pd.DataFrame({"interaction_type": pd.Series([], dtype="object")})


def frame_hash(frame: pd.DataFrame) -> str:
    """A fingerprint of a file's cells, to tell a re-delivered file from one already ingested."""
    cells = pd.util.hash_pandas_object(frame.astype("str"), index=False).to_numpy()
    names = "\x1f".join(map(str, frame.columns)).encode("utf-8")
    return hashlib.sha1(names + cells.tobytes()).hexdigest()


def _column_names(raw: pd.DataFrame) -> list[str]:
    return [str(name).strip().lstrip("\ufeff") for name in raw.columns]


def id_column(ingestion: dict) -> str:
    """The name of the export's explicit id column, as configured."""
    return ingestion.get("lead_id_column") or LEAD_ID


def is_outcome_export(raw: pd.DataFrame) -> bool:
    """An outcome export carries the label and, of a lead's fields, at most its key columns."""
    names = set(_column_names(raw))
    lead_only_fields = set(ORIGIN_COLUMNS) - set(KEY_COLUMNS)
    return LABEL in names and not names & lead_only_fields


# Every quarantined row also carries the file line it came from, after QUARANTINE_COLUMNS: a
# line that held no record has no ``row``, but always a line.
QUARANTINE_WITH_LINES = [*QUARANTINE_COLUMNS, LINE]
# Built once: a fresh DataFrame costs ~0.25 ms, its copy ~0.01 ms, and a one-lead file asks for
# several (measured on the 2-core box, December 2026).
_EMPTY_QUARANTINE = pd.DataFrame(columns=QUARANTINE_WITH_LINES)
# pandas' "str" on pyarrow, missing as NaN: what the reader gives every field.


def _records(
    rows: pd.Index, lead_ids, column, rules, values, reasons, lines: pd.Series
) -> pd.DataFrame:
    """Quarantine rows for ``rows`` of the file, each reason led by the row's file line."""
    row_lines = lines.loc[rows].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            SOURCE_ROW: rows.astype("int64"),
            LEAD_ID: None if lead_ids is None else np.asarray(lead_ids, dtype=object),
            "column": column,
            "rule": rules,
            "value": np.asarray(values, dtype=object),
            "reason": "line "
            + row_lines.astype(str).astype(object)
            + ": "
            + np.asarray(reasons, dtype=object),
            LINE: row_lines,
        },
        columns=QUARANTINE_WITH_LINES,
        index=rows,
    )


def _invalid_values(rows: pd.Index, lead_ids, column: str, rules, shown, lines) -> pd.DataFrame:
    """Quarantine rows for values that break ``rules``, each reason quoting the value."""
    shown = np.asarray(shown, dtype=object)
    reasons = f"{column}: " + np.asarray(rules, dtype=object) + " (got " + shown + ")"
    return _records(rows, lead_ids, column, rules, shown, reasons, lines)


def _validation_records(quarantine: pd.DataFrame, lines: pd.Series) -> pd.DataFrame:
    """Validation's quarantined rows with their file lines; its unreadable lines are left out."""
    quarantine = quarantine.loc[quarantine[SOURCE_ROW].notna().to_numpy()]
    return _records(
        pd.Index(quarantine[SOURCE_ROW].astype("int64")),
        quarantine[LEAD_ID].to_numpy(dtype=object),
        quarantine["column"].to_numpy(dtype=object),
        quarantine["rule"].to_numpy(dtype=object),
        quarantine["value"].to_numpy(dtype=object),
        quarantine["reason"].astype("str").to_numpy(dtype=object),
        lines,
    )


def _rejected_lines(leads: pd.DataFrame, explicit: bool) -> pd.DataFrame:
    """Lines of the file that held no record (blank, a stray quote, undecodable bytes).

    The reader names such a line by its id column; without ``lead_id`` that is pandas' row
    number, which names no lead.
    """
    rejected = leads.attrs.get(REJECTED_LINES) or []
    if not rejected:
        return _EMPTY_QUARANTINE.copy()
    return pd.DataFrame(
        {
            SOURCE_ROW: None,
            LEAD_ID: [lead_id if explicit else None for _, lead_id, _ in rejected],
            "column": "",
            "rule": "unreadable line",
            "value": [f"line {line}" for line, _, _ in rejected],
            "reason": [f"line {line}: {reason}" for line, _, reason in rejected],
            LINE: np.array([line for line, _, _ in rejected], dtype=np.int64),
        },
        columns=QUARANTINE_WITH_LINES,
    )


def _combined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The file's quarantine in file order."""
    found = [part for part in parts if len(part)]
    if not found:
        return _EMPTY_QUARANTINE.copy()
    combined = pd.concat(found, ignore_index=True)[QUARANTINE_WITH_LINES]
    return combined.sort_values(LINE, kind="stable", ignore_index=True)


def _malformed_ids(ids: pd.Series, ingestion: dict, lines: pd.Series) -> pd.DataFrame:
    """Rows whose explicit id is blank, too long or holds control characters."""
    name = id_column(ingestion)
    longest = int(ingestion.get("max_lead_id_length", 64))
    text = ids.astype("object")
    blank = text.isna().to_numpy()
    filled = text.where(~blank, "").astype("str")
    too_long = filled.str.len().to_numpy() > longest
    control = filled.str.contains(_CONTROL_CHARACTERS, regex=True).to_numpy()
    bad = blank | too_long | control
    if not bad.any():
        return _EMPTY_QUARANTINE.copy()
    rules = np.where(
        blank[bad],
        REQUIRED_RULE,
        np.where(too_long[bad], f"at most {longest} characters", "printable characters"),
    )
    shown = filled[bad].str.slice(0, 40).map(repr).where(~blank[bad], "<empty>")
    return _invalid_values(ids.index[bad], None, name, rules, shown, lines)


def _describe_key(row: pd.Series, explicit: bool) -> str:
    if explicit:
        return f"{LEAD_ID} {row[LEAD_ID]!r}"
    levels = "/".join(str(row.get(level)) for level in LEVEL_COLUMNS)
    return f"created {row.get(CREATED_DATE)}, city {row.get(CITY)!r}, levels {levels}"


def _collision(
    name: str, clashing: pd.DataFrame, lines: pd.Series, explicit: bool, ingestion: dict
) -> LeadKeyCollisionError:
    """The one-line refusal of a file whose rows share a key but differ."""
    groups = list(clashing.groupby(LEAD_ID, sort=False).groups.values())
    first = clashing.loc[groups[0]]
    differing = [
        column
        for column in first.columns
        if column != LEAD_ID and first[column].astype("object").nunique(dropna=False) > 1
    ]
    first_lines = " and ".join(str(int(line)) for line in lines.loc[first.index][:_LINES_NAMED])
    first_clash = (
        f"lines {first_lines} share a lead key ({_describe_key(first.iloc[0], explicit)}) but "
        f"differ in {', '.join(differing[:5])}"
    )
    if len(groups) == 1:
        summary = f"{first_clash}, so the leads cannot be told apart"
    else:
        named = sorted(int(line) for line in lines.loc[clashing.index])[:_LINES_NAMED]
        more = len(clashing) - len(named)
        summary = (
            f"{len(clashing)} rows share {len(groups)} lead keys but differ, so the leads cannot "
            f"be told apart (lines {', '.join(map(str, named))}"
            f"{f' and {more} more' if more > 0 else ''}); first: {first_clash}"
        )
    fix = (
        f"Give each lead its own {id_column(ingestion)}, or deliver each lead once."
        if explicit
        else "Add a lead_id column (the CRM's id of each lead) to the export, or remove the "
        "wrong row."
    )
    return LeadKeyCollisionError(
        f"Landing file {name}: {summary}. {fix} Nothing of the file was stored."
    )


def _repeated_rows(
    name: str, rows: pd.DataFrame, lines: pd.Series, explicit: bool, ingestion: dict
) -> pd.DataFrame:
    """Exact repeats of a row under the same key, to quarantine; differing rows refuse the file."""
    shared = rows[LEAD_ID].duplicated(keep=False).to_numpy()
    if not shared.any():
        return _EMPTY_QUARANTINE.copy()
    candidates = rows.loc[shared]
    repeats = candidates.duplicated(keep="first").to_numpy()
    distinct = candidates.loc[~repeats]
    clashing = distinct[LEAD_ID].duplicated(keep=False).to_numpy()
    if clashing.any():
        raise _collision(name, distinct.loc[clashing], lines, explicit, ingestion)
    repeated = candidates.loc[repeats]
    first_line = pd.Series(lines.loc[distinct.index].to_numpy(), index=distinct[LEAD_ID])
    kept_on = first_line.loc[repeated[LEAD_ID]].astype("str").to_numpy(dtype=object)
    return _records(
        repeated.index,
        repeated[LEAD_ID].to_numpy(dtype=object),
        LEAD_ID,
        REPEATED_RULE,
        repeated[LEAD_ID].to_numpy(dtype=object),
        "repeated in the same file: the same lead as line " + kept_on + ", stored once",
        lines,
    )


def _without(leads: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    """``leads`` less ``rows``; none to drop costs nothing (``drop`` copies: ~1.5 ms a file)."""
    return leads.drop(index=rows) if len(rows) else leads


def _fields_as_objects(leads: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """``leads`` with a fresh row number and its ``fields`` as object columns, as the store reads.

    Text fields (all of them in an export) are copied out of their Arrow arrays into one 2-D
    object array, missing values set to NaN as ``astype("object")`` sets them: 0.7 ms for a
    one-lead file of 44 fields, against 9.3 ms for ``astype({field: "object"})`` column by
    column (pandas 3.1, pyarrow 25, December 2026). Any other dtype keeps the general path.
    """
    wanted = set(fields)
    arrays = {name: column.array for name, column in leads.items() if name in wanted}
    if not fields or not all(array.dtype == EXPORT_TEXT for array in arrays.values()):
        return leads.astype({c: "object" for c in fields}).reset_index(drop=True)
    block = np.empty((len(leads), len(fields)), dtype=object)
    for position, name in enumerate(fields):
        block[:, position] = arrays[name].__arrow_array__().to_numpy(zero_copy_only=False)
    block[pd.isna(block)] = np.nan
    # dtype=object, or pandas 3 infers the strings back to "str".
    as_objects = pd.DataFrame(block, columns=fields, dtype=object)
    for position, column in enumerate(leads.columns):
        if column not in as_objects:
            as_objects.insert(position, column, leads[column].array)
    return as_objects


def read_lead_file(
    name: str,
    raw: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    ingestion: dict,
    validation: dict,
    file_hash: str | None = None,
) -> LeadFile:
    """One lead export: its valid leads under their keys, every other row quarantined.

    ``file_hash`` keys the read when the caller has one (ingest hashes the file's bytes);
    without it, the file's cells are hashed.
    """
    explicit = id_column(ingestion) in _column_names(raw)
    normalised = normalise_raw_leads(raw, interaction_mapping, ingestion)
    lines = pd.Series(record_lines(raw), index=normalised.index)
    try:
        valid, quarantine = validate_raw_leads(
            normalised, interaction_mapping, validation, label_required=False
        )
    # Looked up only when something was raised: an MLflow exception (errors.py says why).
    except errors.EmptyExportError:
        logger.warning("%s has a header but no leads.", name)
        rejected = _rejected_lines(normalised, explicit)
        return LeadFile(name, file_hash or frame_hash(raw), len(raw), quarantine=rejected)
    except LeadScoringError as error:
        raise type(error)(f"Landing file {name}: {error}") from error
    quarantine = _validation_records(quarantine, lines)
    fields = [c for c in normalised.columns if c not in (LEAD_ID, LABEL)]
    columns = [LEAD_ID, *fields]
    # Every row valid, as nearly always: a column selection, not a row lookup (~1 ms a file).
    all_valid = valid.index.equals(normalised.index)
    leads = normalised[columns] if all_valid else normalised.loc[valid.index, columns]
    if LABEL in valid:
        leads[LABEL] = valid[LABEL].astype("Int64")
    if explicit:
        malformed = _malformed_ids(leads[LEAD_ID], ingestion, lines)
        leads = _without(leads, malformed.index)
    else:
        keys = natural_lead_keys(normalised)
        leads[LEAD_ID] = keys.loc[leads.index]
        # Pandas' row number names no lead: quarantined rows carry their key instead.
        quarantine[LEAD_ID] = keys.loc[quarantine.index].to_numpy()
        malformed = _EMPTY_QUARANTINE.copy()
    repeated = _repeated_rows(name, leads, lines, explicit, ingestion)
    leads = _without(leads, repeated.index)
    if len(repeated):
        logger.warning(
            "%s: %d row(s) repeat another row of the file exactly; each lead is stored once.",
            name,
            len(repeated),
        )
    return LeadFile(
        name,
        file_hash or frame_hash(raw),
        len(raw),
        leads=_fields_as_objects(leads, fields),
        quarantine=_combined(
            [quarantine, malformed, repeated, _rejected_lines(normalised, explicit)]
        ),
    )


def read_outcome_file(
    name: str, raw: pd.DataFrame, ingestion: dict, file_hash: str | None = None
) -> LeadFile:
    """An outcome export: each lead's key with its 0/1 label, keyed as lead exports are."""
    names = _column_names(raw)
    explicit = id_column(ingestion) in names
    if not explicit and not set(KEY_COLUMNS) <= set(names):
        raise UnkeyedOutcomesError(
            f"Landing file {name}: an outcome export needs a '{id_column(ingestion)}' column, or "
            f"the key columns {', '.join(KEY_COLUMNS)}, beside {LABEL}, to say whose label each "
            f"row is; it has {', '.join(map(repr, names))} (pandas' unnamed index is a row "
            "number, not a lead's id). Nothing of it was stored."
        )
    normalised = normalise_raw_leads(raw, _NO_INTERACTIONS, ingestion)
    lines = pd.Series(record_lines(raw), index=normalised.index)
    problems = []
    if explicit:
        problems.append(_malformed_ids(normalised[LEAD_ID], ingestion, lines))
        keys = normalised[LEAD_ID].astype("object")
    else:
        created = normalised[CREATED_DATE]
        undated = parse_timestamps(created).isna().to_numpy()
        shown = created[undated].astype("object").fillna("<empty>").to_numpy(dtype=object)
        problems.append(
            _invalid_values(
                normalised.index[undated], None, CREATED_DATE, TIMESTAMP_RULE, shown, lines
            )
        )
        keys = natural_lead_keys(normalised)
    label = parse_numbers(normalised[LABEL])
    unlabelled = ~np.isin(label.to_numpy(), [0, 1])
    unlabelled &= ~normalised.index.isin(problems[0].index)
    shown = normalised[LABEL][unlabelled].astype("object").fillna("<empty>").to_numpy(dtype=object)
    problems.append(
        _invalid_values(
            normalised.index[unlabelled], keys[unlabelled], LABEL, LABEL_RULE, shown, lines
        )
    )
    kept = ~normalised.index.isin(np.concatenate([p.index.to_numpy() for p in problems]))
    rows = normalised.loc[kept].assign(**{LEAD_ID: keys[kept]})
    repeated = _repeated_rows(name, rows, lines, explicit, ingestion)
    rows = rows.drop(index=repeated.index)
    outcomes = pd.DataFrame(
        {LEAD_ID: rows[LEAD_ID].astype("object"), LABEL: label.loc[rows.index].astype("int64")}
    ).reset_index(drop=True)
    return LeadFile(
        name,
        file_hash or frame_hash(raw),
        len(raw),
        outcomes=outcomes,
        quarantine=_combined([*problems, repeated, _rejected_lines(normalised, explicit)]),
    )


def read_landing_export(
    name: str,
    raw: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    ingestion: dict,
    validation: dict,
    file_hash: str | None = None,
) -> LeadFile:
    """A landing file as what it is: an outcome export or a lead export."""
    if is_outcome_export(raw):
        return read_outcome_file(name, raw, ingestion, file_hash)
    return read_lead_file(name, raw, interaction_mapping, ingestion, validation, file_hash)
