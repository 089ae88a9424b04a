"""Validation: enforce the raw schema, quarantine failing rows with reasons, type the rest."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lead_scoring.contract import (
    CREATED_DATE,
    LABEL,
    LEAD_ID,
    QUARANTINE_COLUMNS,
    REQUIRED_RULE,
    raw_columns,
)
from lead_scoring.datasets.raw_leads_dataset import REJECTED_LINES
from lead_scoring.errors import TooFewLeadsError, TooManyInvalidRowsError
from lead_scoring.frames import column_arrays, column_values, frame_of
from lead_scoring.pipelines.validation.schemas import (
    UNKNOWN_COLUMNS,
    UNREADABLE_CELLS,
    ParsedLeads,
    RuleLimits,
    parse_leads,
    raw_lead_schema,
    rows_breaking_rules,
)
from lead_scoring.tracking import as_mlflow_metrics

if TYPE_CHECKING:
    import pandera.pandas as pa

logger = logging.getLogger(__name__)


def _require_columns(
    leads: pd.DataFrame, arrays: dict, interaction_columns: list[str], label_required: bool
):
    missing = [c for c in raw_columns(interaction_columns, label_required) if c not in arrays]
    if missing:
        # MLflow exceptions, imported when raised: errors.py says why.
        from lead_scoring.errors import MissingColumnsError

        unknown = leads.attrs.get(UNKNOWN_COLUMNS) or []
        found = (
            f" Unrecognised column(s) in the export: {', '.join(map(repr, unknown[:5]))}."
            if unknown
            else ""
        )
        raise MissingColumnsError(
            f"The lead export lacks {len(missing)} required column(s): {', '.join(missing)}."
            f"{found} Nothing was written. Columns are matched by name; see docs/data.md for "
            "the format."
        )
    if leads.empty:
        from lead_scoring.errors import EmptyExportError

        raise EmptyExportError("The lead export has a header but no leads. Nothing was written.")


def _quarantine_records(leads: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """One row per failing lead: its first failure, and every failure spelled out in ``reason``."""
    if not failures.empty:
        failures = failures.dropna(subset=["index"])
    if failures.empty:
        return _no_quarantine()
    failures = failures.assign(
        index=failures["index"].astype("int64"),
        value=failures["failure_case"].astype("str").fillna("<empty>"),
        rule=failures["check"].astype("str").replace({"not_nullable": REQUIRED_RULE}),
    )
    failures["reason"] = (
        failures["column"].astype("str")
        + ": "
        + failures["rule"]
        + " (got "
        + failures["value"]
        + ")"
    )
    grouped = failures.groupby("index", sort=True)
    records = grouped[["column", "rule", "value"]].first()
    records["reason"] = grouped["reason"].agg("; ".join)
    records.insert(0, LEAD_ID, leads.loc[records.index, LEAD_ID])
    records.insert(0, "row", records.index)
    records.index.name = None
    return records[QUARANTINE_COLUMNS]


# Built once, handed out as shallow copies (pandas copies on write): 10 against 15 us a lead.
_NO_QUARANTINE = frame_of(
    dict.fromkeys(QUARANTINE_COLUMNS, np.empty(0, dtype=object)), pd.Index([], dtype="int64")
)


def _no_quarantine() -> pd.DataFrame:
    return _NO_QUARANTINE.copy(deep=False)


def _unreadable_records(leads: pd.DataFrame) -> pd.DataFrame | None:
    """Rows with a cell that holds no value of a lead (a JSON object in a served record)."""
    unreadable = leads.attrs.get(UNREADABLE_CELLS) or {}
    if not unreadable:
        return None
    positions = sorted(unreadable)
    index = leads.index[positions]
    records = pd.DataFrame(
        {
            "row": index,
            LEAD_ID: leads[LEAD_ID].to_numpy(dtype=object)[positions],
            "column": [unreadable[p][0] for p in positions],
            "rule": "one value",
            "value": [unreadable[p][1].rsplit(" ", 1)[-1] for p in positions],
            "reason": [f"{unreadable[p][0]}: {unreadable[p][1]}" for p in positions],
        },
        index=index,
    )
    return records[QUARANTINE_COLUMNS]


def _rejected_line_records(leads: pd.DataFrame) -> pd.DataFrame | None:
    """Lines of the export the reader could not take as a lead's record, with why."""
    rejected = leads.attrs.get(REJECTED_LINES) or []
    if not rejected:
        return None
    start = int(leads.index.max()) + 1 if len(leads) else 0
    records = pd.DataFrame(
        {
            "row": None,
            LEAD_ID: [lead_id for _, lead_id, _ in rejected],
            "column": "",
            "rule": "unreadable line",
            "value": [f"line {line}" for line, _, _ in rejected],
            "reason": [f"line {line}: {reason}" for line, _, reason in rejected],
        },
        index=pd.RangeIndex(start, start + len(rejected)),
    )
    return records[QUARANTINE_COLUMNS]


def _typed(
    leads: pd.DataFrame, arrays: dict, parsed: ParsedLeads, kept: np.ndarray | slice
) -> pd.DataFrame:
    """The kept rows, with dates as timestamps and counts as numbers, as the rules parsed them."""
    numbers = parsed.numbers[kept]
    # One conversion for every count column, not one a column.
    counts = numbers.astype("float32")
    positions = {name: position for position, name in enumerate(parsed.count_columns)}
    columns = {}
    for name, cells in arrays.items():
        if name == CREATED_DATE:
            columns[name] = parsed.created[kept]
        elif name == LABEL:
            columns[name] = numbers[:, positions[name]].astype("int8")
        elif name in positions:
            columns[name] = counts[:, positions[name]]
        else:
            columns[name] = cells[kept]
    # Built from the arrays as they are: pandas' own constructor costs a served lead 2 ms.
    return frame_of(columns, leads.index[kept])


def _failure_cases(leads: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Pandera's failure cases of the leads: index, column, check and the failing value."""
    import pandera.pandas as pa

    try:
        schema.validate(leads, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases
    return pd.DataFrame(columns=["index", "column", "check", "failure_case"])


def validate_raw_leads(
    leads: pd.DataFrame, interaction_mapping: pd.DataFrame, rules: dict, label_required: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split leads into typed valid rows and quarantined rows with the failed column, rule and value."""
    interaction_columns = column_values(interaction_mapping, "interaction_type")
    # Each column is taken out of the frame once, for every step below.
    arrays = column_arrays(leads)
    _require_columns(leads, arrays, interaction_columns, label_required)
    limits = RuleLimits.from_parameters(rules, today=pd.Timestamp.now())
    # One vectorised pass clears the clean rows; Pandera then spells out what breaks in the rest.
    parsed = parse_leads(arrays, interaction_columns)
    suspects = rows_breaking_rules(parsed, interaction_columns, limits)
    # Validating no rows still costs Pandera's per-column set-up: a clean batch skips it.
    if suspects.any():
        schema = raw_lead_schema(tuple(interaction_columns), limits, with_label=LABEL in leads)
        quarantine = _quarantine_records(leads, _failure_cases(leads.loc[suspects], schema))
    else:
        quarantine = _no_quarantine()
    unreadable = _unreadable_records(leads)
    if unreadable is not None:
        quarantine = pd.concat([unreadable, quarantine])
        quarantine = quarantine[~quarantine.index.duplicated()].sort_index()
    if len(quarantine):
        top = quarantine["rule"].groupby(quarantine["column"] + ": " + quarantine["rule"]).size()
        logger.warning(
            "Quarantined %d of %d leads. Most frequent: %s",
            len(quarantine),
            len(leads),
            "; ".join(f"{k} x{v}" for k, v in top.nlargest(5).items()),
        )
    kept = ~leads.index.isin(quarantine.index) if len(quarantine) else slice(None)
    rejected = _rejected_line_records(leads)
    if rejected is not None:
        quarantine = pd.concat([quarantine, rejected]) if len(quarantine) else rejected
    return _typed(leads, arrays, parsed, kept), quarantine


def _require_both_outcomes(clean: pd.DataFrame, minimum: int) -> None:
    counts = clean[LABEL].value_counts()
    completed, not_completed = int(counts.get(1, 0)), int(counts.get(0, 0))
    if min(completed, not_completed) < minimum:
        raise TooFewLeadsError(
            f"Only {completed} valid lead(s) with {LABEL} 1 and {not_completed} with {LABEL} 0 "
            f"remain: training needs at least {minimum} of each outcome to fit and measure a "
            "model. Train on a longer export. Nothing was trained."
        )


def accept_training_leads(
    valid_leads: pd.DataFrame, quarantined_leads: pd.DataFrame, rules: dict
) -> tuple[pd.DataFrame, dict, dict]:
    """Stop on a broken export, drop exact duplicate leads, and summarise what was kept."""
    rows_read = len(valid_leads) + len(quarantined_leads)
    share = len(quarantined_leads) / rows_read
    if share > rules["max_quarantine_share"]:
        example = quarantined_leads.iloc[0]
        raise TooManyInvalidRowsError(
            f"{len(quarantined_leads)} of {rows_read} leads ({share:.1%}) failed validation, "
            f"more than the allowed {rules['max_quarantine_share']:.0%}: a broken export must not "
            f"train a model. Example: row {example['row']}, {example['reason']}. "
            "Details in data/02_intermediate/quarantined_leads.csv."
        )
    data_columns = [c for c in valid_leads.columns if c != LEAD_ID]
    duplicated = valid_leads.duplicated(subset=data_columns)
    clean = valid_leads.loc[~duplicated]
    _require_both_outcomes(clean, rules["min_leads_per_outcome"])
    summary = {
        "rows_read": rows_read,
        "rows_quarantined": len(quarantined_leads),
        "rows_valid": len(valid_leads),
        "duplicates_removed": int(duplicated.sum()),
        "rows_kept": len(clean),
        "quarantine_share": share,
    }
    logger.info(
        "%d leads read, %d quarantined, %d exact duplicates removed, %d kept for training",
        rows_read,
        len(quarantined_leads),
        summary["duplicates_removed"],
        len(clean),
    )
    return clean, summary, as_mlflow_metrics(summary)
