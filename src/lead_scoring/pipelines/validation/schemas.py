"""The raw lead schema: column names, value rules, and the Pandera schema that enforces them.

A raw export is read as text, so every rule here judges a cell as it was written. Each rule is
a vectorised test of a block of text cells; the Pandera schema applies the same tests column by
column, and ``rows_breaking_rules`` screens a whole batch with them at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc

CREATED_DATE = "created_date"
CITY = "city_mapped"
PLATFORM = "first_platform_c"
MEDIUM = "first_utm_medium_c"
SOURCE = "first_utm_source_c"
LEADS_DROPPED = "total_leads_droppped"
REFERRED = "referred_lead"
LABEL = "app_complete_flag"
LEAD_ID = "lead_id"
# Key of ``DataFrame.attrs`` where ingestion lists the export's columns it did not recognise.
UNKNOWN_COLUMNS = "unknown_columns"

LEVEL_COLUMNS = (PLATFORM, MEDIUM, SOURCE)
ORIGIN_COLUMNS = (CREATED_DATE, CITY, *LEVEL_COLUMNS, LEADS_DROPPED, REFERRED)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
LEVEL_PATTERN = r"^Level\d+$"


def raw_columns(interaction_columns: Sequence[str], with_label: bool) -> list[str]:
    """The export's data columns in their documented order."""
    return [*ORIGIN_COLUMNS, *interaction_columns, *([LABEL] if with_label else [])]


def parse_timestamps(cells: pd.Series) -> pd.Series:
    """Parse export timestamps; cells that are not ``YYYY-MM-DD HH:MM:SS`` become NaT."""
    return pd.to_datetime(cells, format=TIMESTAMP_FORMAT, errors="coerce")


def arrow_cells(cells: pd.Series) -> arrow.Array:
    """A column's cells as an Arrow array, without a copy when pandas keeps them in Arrow."""
    values = cells.array
    # Going through the Series costs more than the parsing itself on a served lead.
    if hasattr(values, "__arrow_array__"):
        return arrow.array(values)
    return arrow.array(cells.to_numpy(), from_pandas=True)


def number_array(cells: pd.Series) -> np.ndarray:
    """Numeric text as float64; anything that is not a number becomes NaN."""
    try:
        # Arrow's cast is many times faster than pandas' parser and accepts every clean export.
        parsed = pc.cast(arrow_cells(cells), arrow.float64())
        return parsed.to_numpy(zero_copy_only=False)
    except (arrow.ArrowInvalid, arrow.ArrowTypeError, arrow.ArrowNotImplementedError):
        return pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def parse_numbers(cells: pd.Series) -> pd.Series:
    """Parse numeric text; anything that is not a number becomes NaN."""
    return pd.Series(number_array(cells), index=cells.index)


# --- value rules: columns of text cells in, an array of acceptable cells (rows x columns) out ---

Cells = Sequence[pd.Series]


def _numbers(columns: Cells) -> np.ndarray:
    return np.column_stack([number_array(cells) for cells in columns])


def _whole_number_between(low: float, high: float) -> Callable[[Cells], np.ndarray]:
    def test(columns: Cells) -> np.ndarray:
        values = _numbers(columns)
        return (values >= low) & (values <= high) & (values == np.floor(values))

    return test


def _flag(columns: Cells) -> np.ndarray:
    values = _numbers(columns)
    return (values == 0) | (values == 1)


def _timestamps(columns: Cells) -> np.ndarray:
    return np.column_stack(
        [parse_timestamps(cells).to_numpy(dtype="datetime64[ns]") for cells in columns]
    )


def _is_timestamp(columns: Cells) -> np.ndarray:
    return ~np.isnat(_timestamps(columns))


def _timestamp_within(earliest: pd.Timestamp, latest: pd.Timestamp):
    def test(columns: Cells) -> np.ndarray:
        # A cell that is not a timestamp fails the format rule only: one reason per fault.
        parsed = _timestamps(columns)
        low, high = earliest.to_datetime64(), latest.to_datetime64()
        return ((parsed >= low) & (parsed <= high)) | np.isnat(parsed)

    return test


def _is_level(columns: Cells) -> np.ndarray:
    return np.column_stack(
        [
            pc.match_substring_regex(arrow_cells(cells), LEVEL_PATTERN)
            .fill_null(False)
            .to_numpy(zero_copy_only=False)
            for cells in columns
        ]
    )


@dataclass(frozen=True)
class ValueRule:
    """A rule for the cells of some columns; blank cells pass unless the rule requires a value."""

    name: str
    columns: tuple[str, ...]
    test: Callable[[Cells], np.ndarray]
    required: bool = False

    def column_check(self) -> pa.Check:
        """The rule as a Pandera check of one column."""
        return pa.Check(
            lambda cells: pd.Series(self.test([cells])[:, 0], index=cells.index),
            name=self.name,
        )


def raw_value_rules(
    interaction_columns: Sequence[str], rules: dict, with_label: bool, today: pd.Timestamp
) -> tuple[ValueRule, ...]:
    """The value rules of a raw export, their limits taken from the validation parameters."""
    return _cached_value_rules(
        tuple(interaction_columns), tuple(sorted(rules.items())), with_label, today.normalize()
    )


@functools.lru_cache(maxsize=16)
def _cached_value_rules(
    interaction_columns: tuple[str, ...], rule_items: tuple, with_label: bool, today: pd.Timestamp
) -> tuple[ValueRule, ...]:
    rules = dict(rule_items)
    earliest = pd.Timestamp(rules["earliest_created_date"])
    # Dates up to the end of the tolerated day count as valid.
    latest = today + pd.Timedelta(days=rules["max_days_in_future"] + 1) - pd.Timedelta(seconds=1)
    dropped, clicks = rules["max_leads_dropped"], rules["max_interaction_count"]
    value_rules = [
        ValueRule(f"timestamp {TIMESTAMP_FORMAT}", (CREATED_DATE,), _is_timestamp, required=True),
        ValueRule(
            f"date between {earliest.date()} and {latest.date()}",
            (CREATED_DATE,),
            _timestamp_within(earliest, latest),
            required=True,
        ),
        ValueRule("matches LevelN", LEVEL_COLUMNS, _is_level),
        ValueRule(f"whole number 0-{dropped}", (LEADS_DROPPED,), _whole_number_between(0, dropped)),
        ValueRule("flag 0 or 1", (REFERRED,), _flag),
        ValueRule(
            f"whole number 0-{clicks}", interaction_columns, _whole_number_between(0, clicks)
        ),
    ]
    if with_label:
        value_rules.append(ValueRule("label 0 or 1", (LABEL,), _flag, required=True))
    return tuple(value_rules)


def rows_breaking_rules(leads: pd.DataFrame, value_rules: Sequence[ValueRule]) -> np.ndarray:
    """Which rows break any rule: one vectorised pass per rule over all of its columns."""
    broken = np.zeros(len(leads), dtype=bool)
    for rule in value_rules:
        columns = [leads[name] for name in rule.columns]
        blank = np.column_stack([cells.array.isna() for cells in columns])
        acceptable = rule.test(columns) | blank
        if rule.required:
            acceptable &= ~blank
        broken |= ~acceptable.all(axis=1)
    return broken


def build_raw_schema(value_rules: Sequence[ValueRule]) -> pa.DataFrameSchema:
    """The Pandera schema of a raw export: every rule checked on each of its columns."""
    return _cached_raw_schema(tuple(value_rules))


# Building a schema costs more than validating one served lead, so each is built once a day.
@functools.lru_cache(maxsize=16)
def _cached_raw_schema(value_rules: tuple[ValueRule, ...]) -> pa.DataFrameSchema:
    checks: dict[str, list[pa.Check]] = {}
    required: set[str] = set()
    for rule in value_rules:
        for name in rule.columns:
            checks.setdefault(name, []).append(rule.column_check())
        if rule.required:
            required.update(rule.columns)
    columns = {
        name: pa.Column(nullable=name not in required, checks=column_checks)
        for name, column_checks in checks.items()
    }
    return pa.DataFrameSchema(columns, strict=False, coerce=False, name="raw_leads")
