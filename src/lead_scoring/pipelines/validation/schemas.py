"""The raw lead schema: column names, value rules, and the Pandera schema that enforces them.

A raw export is read as text, so every rule here judges a cell as it was written. Each rule is
a vectorised test of a block of text cells; the Pandera schema applies the same tests column by
column, and ``rows_breaking_rules`` screens a whole batch with them at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc

from lead_scoring.contract import (  # noqa: F401  (re-exported for the stages that validate)
    CITY,
    CREATED_DATE,
    LABEL,
    LEAD_ID,
    LEADS_DROPPED,
    LEVEL_COLUMNS,
    LEVEL_PATTERN,
    MEDIUM,
    ORIGIN_COLUMNS,
    PLATFORM,
    REFERRED,
    SOURCE,
    TIMESTAMP_FORMAT,
    raw_columns,
)
from lead_scoring.errors import LeadDataError

# Key of ``DataFrame.attrs`` where ingestion lists the export's columns it did not recognise.
UNKNOWN_COLUMNS = "unknown_columns"
# Cells that hold no value of a lead (a JSON object or list in a served record), by row
# position: (column, what was wrong). Normalisation notes them in ``attrs``; validation
# quarantines their rows.
UNREADABLE_CELLS = "unreadable_cells"


class DuplicateColumnError(LeadDataError):
    """Two columns of the export share one name."""


Columns = Sequence[str]


def parse_timestamps(cells: pd.Series) -> pd.Series:
    """Parse export timestamps; cells that are not ``YYYY-MM-DD HH:MM:SS`` become NaT."""
    return pd.to_datetime(cells, format=TIMESTAMP_FORMAT, errors="coerce")


def arrow_cells(cells: pd.Series) -> arrow.Array:
    """A column's cells as one Arrow array, without a copy when pandas keeps them in one."""
    values = cells.array
    # Going through the Series costs more than the parsing itself on a served lead.
    if hasattr(values, "__arrow_array__"):
        found = arrow.array(values)
        return found.combine_chunks() if isinstance(found, arrow.ChunkedArray) else found
    return arrow.array(cells.to_numpy(), from_pandas=True)


# What Arrow raises when text will not cast to numbers; pandas' lenient parser then takes over.
_NOT_ARROW_NUMBERS = (arrow.ArrowInvalid, arrow.ArrowTypeError, arrow.ArrowNotImplementedError)


def number_array(cells: pd.Series) -> np.ndarray:
    """Numeric text as float64; anything that is not a number becomes NaN."""
    try:
        # Arrow's cast is many times faster than pandas' parser and accepts every clean export.
        parsed = pc.cast(arrow_cells(cells), arrow.float64())
        return parsed.to_numpy(zero_copy_only=False)
    except _NOT_ARROW_NUMBERS:
        return pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def parse_numbers(cells: pd.Series) -> pd.Series:
    """Parse numeric text; anything that is not a number becomes NaN."""
    return pd.Series(number_array(cells), index=cells.index)


# --- the cells a batch's rules judge, each column read and parsed once ---------------------------


def _columnwise(
    function: Callable[[arrow.ChunkedArray], arrow.ChunkedArray], cells: list[arrow.Array]
) -> np.ndarray:
    """``function`` over several Arrow columns in one call, as a rows x columns array."""
    try:
        block = arrow.chunked_array(cells)
    except (arrow.ArrowInvalid, arrow.ArrowTypeError):
        # Columns of different types cannot be laid end to end.
        return np.stack([function(column).to_numpy(zero_copy_only=False) for column in cells], 1)
    # One call over the columns laid end to end: on a served lead the per-call cost is the cost.
    return function(block).to_numpy().reshape(len(cells), len(cells[0])).T


class LeadCells:
    """A batch's text cells, each column read, and parsed as numbers or timestamps, only once.

    The rule screen, Pandera's checks and the typed output ask for the same columns; on a served
    lead, reading a column through pandas costs more than parsing it.
    """

    def __init__(self, columns: Mapping[str, pd.Series], rows: int) -> None:
        self._columns = columns
        self.rows = rows
        self._series: dict[str, pd.Series] = {}
        self._text: dict[str, arrow.Array] = {}
        self._blank: dict[str, np.ndarray] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._timestamps: dict[str, np.ndarray] = {}

    def series(self, column: str) -> pd.Series:
        """The column's cells as pandas holds them."""
        if column not in self._series:
            self._series[column] = self._columns[column]
        return self._series[column]

    def text(self, column: str) -> arrow.Array:
        """The column's cells as Arrow."""
        if column not in self._text:
            self._text[column] = arrow_cells(self.series(column))
        return self._text[column]

    def blank(self, columns: Columns) -> np.ndarray:
        """Which cells are empty, rows x columns."""
        if missing := self._missing(self._blank, columns):
            blank = _columnwise(pc.is_null, [self.text(column) for column in missing])
            self._blank.update(zip(missing, blank.T, strict=True))
        return self._stacked(self._blank, columns)

    def numbers(self, columns: Columns) -> np.ndarray:
        """The cells as float64, rows x columns; cells that are not numbers are NaN."""
        if missing := self._missing(self._numbers, columns):
            try:
                texts = [self.text(column) for column in missing]
                parsed = _columnwise(lambda block: pc.cast(block, arrow.float64()), texts)
            except _NOT_ARROW_NUMBERS:
                # A cell is not a number, or the columns differ in type: column by column.
                parsed = np.stack([number_array(self.series(c)) for c in missing], axis=1)
            self._numbers.update(zip(missing, parsed.T, strict=True))
        return self._stacked(self._numbers, columns)

    def timestamps(self, columns: Columns) -> np.ndarray:
        """The cells as ``datetime64[ns]``, rows x columns; cells that are not timestamps are NaT."""
        for column in self._missing(self._timestamps, columns):
            parsed = parse_timestamps(self.series(column))
            self._timestamps[column] = parsed.to_numpy(dtype="datetime64[ns]")
        return self._stacked(self._timestamps, columns)

    @staticmethod
    def _missing(found: dict, columns: Columns) -> list[str]:
        return [column for column in columns if column not in found]

    @staticmethod
    def _stacked(found: dict, columns: Columns) -> np.ndarray:
        return np.stack([found[column] for column in columns], axis=1)


# --- value rules: a batch's cells and some of its columns in, acceptable cells out ------------


def _whole_number_between(low: float, high: float) -> Callable[[LeadCells, Columns], np.ndarray]:
    def test(cells: LeadCells, columns: Columns) -> np.ndarray:
        values = cells.numbers(columns)
        return (values >= low) & (values <= high) & (values == np.floor(values))

    return test


def _flag(cells: LeadCells, columns: Columns) -> np.ndarray:
    values = cells.numbers(columns)
    return (values == 0) | (values == 1)


def _is_timestamp(cells: LeadCells, columns: Columns) -> np.ndarray:
    return ~np.isnat(cells.timestamps(columns))


def _timestamp_within(earliest: pd.Timestamp, latest: pd.Timestamp):
    def test(cells: LeadCells, columns: Columns) -> np.ndarray:
        # A cell that is not a timestamp fails the format rule only: one reason per fault.
        parsed = cells.timestamps(columns)
        low, high = earliest.to_datetime64(), latest.to_datetime64()
        return ((parsed >= low) & (parsed <= high)) | np.isnat(parsed)

    return test


def _is_level(cells: LeadCells, columns: Columns) -> np.ndarray:
    def matches(block: arrow.ChunkedArray) -> arrow.ChunkedArray:
        return pc.fill_null(pc.match_substring_regex(block, LEVEL_PATTERN), False)

    return _columnwise(matches, [cells.text(column) for column in columns])


@dataclass(frozen=True)
class ValueRule:
    """A rule for the cells of some columns; blank cells pass unless the rule requires a value."""

    name: str
    # A tuple: rules are hashed, as the key of the schema built from them.
    columns: tuple[str, ...]
    test: Callable[[LeadCells, Columns], np.ndarray]
    required: bool = False

    def column_check(self) -> pa.Check:
        """The rule as a Pandera check of one column."""

        def check(column: pd.Series) -> pd.Series:
            acceptable = self.test(LeadCells({"cells": column}, len(column)), ("cells",))
            return pd.Series(acceptable[:, 0], index=column.index)

        return pa.Check(check, name=self.name)


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


def rows_breaking_rules(cells: LeadCells, value_rules: Sequence[ValueRule]) -> np.ndarray:
    """Which rows break any rule: one vectorised pass per rule over all of its columns."""
    broken = np.zeros(cells.rows, dtype=bool)
    for rule in value_rules:
        blank = cells.blank(rule.columns)
        acceptable = rule.test(cells, rule.columns) | blank
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
