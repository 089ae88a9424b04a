"""The raw lead schema: the value rules, as a Pandera schema and as the screen before it.

A raw export is read as text, so every rule here judges a cell as it was written. Each rule is a
vectorised test of parsed cells. ``raw_lead_schema`` declares them column by column for Pandera,
which spells out what breaks; ``rows_breaking_rules`` applies the same tests to a whole batch at
once, so that only the rows breaking a rule pay for Pandera.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.compute as pc
from pandas.arrays import ArrowExtensionArray

from lead_scoring.contract import (
    CREATED_DATE,
    LABEL,
    LEADS_DROPPED,
    LEVEL_COLUMNS,
    LEVEL_PATTERN,
    REFERRED,
    TIMESTAMP_FORMAT,
)
from lead_scoring.frames import column_arrays

if TYPE_CHECKING:
    import pandera.pandas as pa

# Key of ``DataFrame.attrs`` where ingestion lists the export's columns it did not recognise.
UNKNOWN_COLUMNS = "unknown_columns"
# Cells that hold no value of a lead (a JSON object or list in a served record), by row
# position: (column, what was wrong). Normalisation notes them in ``attrs``; validation
# quarantines their rows.
UNREADABLE_CELLS = "unreadable_cells"


def parse_timestamps(cells: pd.Series) -> pd.Series:
    """Parse export timestamps; cells that are not ``YYYY-MM-DD HH:MM:SS`` become NaT."""
    return pd.to_datetime(cells, format=TIMESTAMP_FORMAT, errors="coerce")


# Where a cell written ``YYYY-MM-DD HH:MM:SS`` has its digits and its separators.
_DIGIT_POSITIONS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_SEPARATOR_POSITIONS = np.array([4, 7, 10, 13, 16])
_SEPARATORS = np.frombuffer(b"-- ::", dtype=np.uint8)
# Each digit's worth in the year, month, day, and the second of the day.
_PLACE_VALUES = np.zeros((14, 4), dtype=np.int64)
for _field, _first, _worths in [(0, 0, (1000, 100, 10, 1)), (1, 4, (10, 1)), (2, 6, (10, 1))]:
    _PLACE_VALUES[_first : _first + len(_worths), _field] = _worths
_PLACE_VALUES[8:, 3] = [36_000, 3_600, 600, 60, 10, 1]
# Each field's bounds, the hour's, minute's and second's told by their digits' (23:59:59 at most).
_LOWEST, _HIGHEST = np.array([1700, 1, 1, 0]), np.array([2200, 12, 31, 86_399])
_FIELDS_UP_TO = np.array([9, 9, 9, 9, 9, 9, 9, 9, 2, 9, 5, 9, 5, 9], dtype=np.uint8)
# By year from 1700 to 2200: whether it is a leap year, and its 1 January in days since 1970.
_YEARS = np.arange(1700, 2201)
_LEAP = ((_YEARS % 4 == 0) & ((_YEARS % 100 != 0) | (_YEARS % 400 == 0))).astype(np.int64)
_NEW_YEAR_DAYS = (_YEARS - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
# By common or leap year and month (0 and 13 stand for every month out of range): its length,
# and the days of the year before it.
_MONTH_DAYS = np.array([[0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0]] * 2)
_MONTH_DAYS[1, 2] = 29
_DAYS_BEFORE_MONTH = np.concatenate([[[0]] * 2, np.cumsum(_MONTH_DAYS, axis=1)[:, :-1]], axis=1)
_NANOSECONDS = 1_000_000_000


def timestamp_array(cells) -> np.ndarray:
    """Export timestamps as datetime64[ns], NaT where not a time: ``parse_timestamps``' answer.

    A cell written exactly ``YYYY-MM-DD HH:MM:SS`` (zero-padded, a real date and time, years
    1700-2200) is read from its bytes with numpy; pandas reads every other cell, as
    ``parse_timestamps`` does. pandas' parser costs a served lead 0.25 ms; this, 0.04 ms, and
    100,000 leads 8 against 35 ms (pandas 3.1, one core). tests/pipelines/validation holds the
    two to the same answer on odd cells.
    """
    text = arrow_cells(cells)
    if not (arrow.types.is_string(text.type) or arrow.types.is_large_string(text.type)):
        return parse_timestamps(pd.Series(cells)).to_numpy(dtype="datetime64[ns]")
    text = text.cast(arrow.large_string())
    rows = len(text)
    result = np.full(rows, np.datetime64("NaT", "ns"))
    _, offset_buffer, data_buffer = text.buffers()
    if rows == 0 or data_buffer is None:
        return result
    offsets = np.frombuffer(offset_buffer, np.int64, count=rows + 1, offset=8 * text.offset)
    present = (
        pc.is_valid(text).to_numpy(zero_copy_only=False)
        if text.null_count
        else np.ones(rows, dtype=bool)
    )
    candidates = np.flatnonzero(present & (np.diff(offsets) == 19))
    data = np.frombuffer(data_buffer, np.uint8)
    if len(candidates) == rows:
        # Every cell is 19 bytes, end to end: their bytes are a rows x 19 view.
        chars = data[offsets[0] : offsets[0] + 19 * rows].reshape(rows, 19)
    else:
        chars = data[offsets[candidates][:, None] + np.arange(19)]
    # A byte below "0" wraps round to above 200: one comparison tells a digit.
    digits = chars[:, _DIGIT_POSITIONS] - np.uint8(48)
    well_formed = (digits <= _FIELDS_UP_TO).all(axis=1) & (
        chars[:, _SEPARATOR_POSITIONS] == _SEPARATORS
    ).all(axis=1)
    fields = digits.astype(np.int64) @ _PLACE_VALUES
    year, month, day, second_of_day = fields.T
    real = well_formed & (fields >= _LOWEST).all(axis=1) & (fields <= _HIGHEST).all(axis=1)
    # Table look-ups by year and month, not a calendar's arithmetic: on a served lead each numpy
    # pass is the cost: 45-64 against 81-90 us a cell, 100,000 cells alike (shared machine).
    years = np.clip(year, 1700, 2200) - 1700
    leap, months = _LEAP[years], np.minimum(month, 13)
    real &= day <= _MONTH_DAYS[leap, months]
    days = _NEW_YEAR_DAYS[years] + _DAYS_BEFORE_MONTH[leap, months] + day - 1
    seconds = days * 86_400 + second_of_day
    result[candidates[real]] = (seconds[real] * _NANOSECONDS).view("datetime64[ns]")
    read = np.zeros(rows, dtype=bool)
    read[candidates[real]] = True
    others = np.flatnonzero(present & ~read)
    if len(others):
        result[others] = _pandas_timestamps(text.take(others).to_numpy(zero_copy_only=False))
    return result


def _pandas_timestamps(cells) -> np.ndarray:
    return parse_timestamps(pd.Series(cells, dtype=object)).to_numpy(dtype="datetime64[ns]")


def arrow_cells(cells) -> arrow.Array:
    """A column's cells (a Series or its array) as one Arrow array, without a copy when pandas
    keeps them in one."""
    values = cells.array if isinstance(cells, pd.Series) else cells
    # Going through the Series costs more than the parsing itself on a served lead.
    if isinstance(values, ArrowExtensionArray):
        # Its own Arrow data, without ``arrow.array``'s dispatch (1.2 against 0.4 us).
        found = values.__arrow_array__()
        return found.chunk(0) if found.num_chunks == 1 else found.combine_chunks()
    if hasattr(values, "__arrow_array__"):
        found = arrow.array(values)
        return found.combine_chunks() if isinstance(found, arrow.ChunkedArray) else found
    return arrow.array(np.asarray(values), from_pandas=True)


# What Arrow raises when text will not cast to numbers; pandas' lenient parser then takes over.
_NOT_ARROW_NUMBERS = (arrow.ArrowInvalid, arrow.ArrowTypeError, arrow.ArrowNotImplementedError)


def number_array(cells: pd.Series) -> np.ndarray:
    """Numeric text as float64; anything that is not a number becomes NaN."""
    try:
        # Arrow's cast is many times faster than pandas' parser and accepts every clean export.
        parsed = pc.cast(arrow_cells(cells), arrow.float64())
        return parsed.to_numpy(zero_copy_only=False)
    except _NOT_ARROW_NUMBERS:
        numbers = pd.to_numeric(pd.Series(cells), errors="coerce")
        return numbers.to_numpy(dtype="float64", na_value=np.nan)


def parse_numbers(cells: pd.Series) -> pd.Series:
    """Parse numeric text; anything that is not a number becomes NaN."""
    return pd.Series(number_array(cells), index=cells.index)


# --- a batch's cells, parsed once: the screen and the typed valid rows share them ----------------


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


def _arrays(leads: pd.DataFrame | Mapping[str, Any]) -> Mapping[str, Any]:
    """The leads' column arrays by name: a frame's are taken out once."""
    return column_arrays(leads) if isinstance(leads, pd.DataFrame) else leads


def parse_number_columns(
    leads: pd.DataFrame | Mapping[str, Any], columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Several columns of numeric text as float64 and which cells are empty, rows x columns."""
    leads = _arrays(leads)
    texts = [arrow_cells(leads[column]) for column in columns]
    # One Arrow call for all the columns, not one pandas call per column: 1.4 against 11.7 ms of
    # CPU a served lead, 10 against 311 ms a batch of 50,000 (benchmarks/bench_lead_cells.py).
    blank = _columnwise(pc.is_null, texts)
    try:
        return _columnwise(lambda block: pc.cast(block, arrow.float64()), texts), blank
    except _NOT_ARROW_NUMBERS:
        # A cell is not a number: pandas' lenient parser, column by column.
        return np.stack([number_array(leads[column]) for column in columns], axis=1), blank


@dataclass(frozen=True)
class ParsedLeads:
    """The cells the rules judge, each parsed once: the screen and the typed rows share them.

    A second parse would cost a served lead 2.1 ms of CPU (benchmarks/bench_lead_cells.py).
    """

    # NaT where the cell is empty or not a timestamp.
    created: np.ndarray
    # The count columns and the label, in the order of ``numbers``' columns.
    count_columns: tuple[str, ...]
    # Their cells as float64, rows x columns, NaN where empty or not a number.
    numbers: np.ndarray
    # Which of those cells are empty.
    blank: np.ndarray
    # Which level cells are written and not ``LevelN``, rows x level columns.
    level_breaks: np.ndarray

    def counts(self, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The numbers and the empty cells of some count columns, rows x columns."""
        first = self.count_columns.index(columns[0])
        positions: slice | list[int] = slice(first, first + len(columns))
        # Side by side, as the interaction columns are: a view, not a copy, and not a search of
        # the names for each of them (10 us a served lead).
        if self.count_columns[first : first + len(columns)] != tuple(columns):
            positions = [self.count_columns.index(column) for column in columns]
        return self.numbers[:, positions], self.blank[:, positions]


def parse_leads(
    leads: pd.DataFrame | Mapping[str, Any], interaction_columns: Sequence[str]
) -> ParsedLeads:
    """The batch's timestamps, counts and label, parsed once."""
    counts = (LEADS_DROPPED, REFERRED, *interaction_columns, *([LABEL] if LABEL in leads else []))
    # Each column is taken out of the frame once, for every parse below.
    arrays = _arrays(leads)
    numbers, blank = parse_number_columns(arrays, counts)
    created = timestamp_array(arrays[CREATED_DATE])
    return ParsedLeads(created, counts, numbers, blank, breaks_level_rule(arrays))


# --- the value rules: tests of parsed cells, with their limits and names -----------------------


@dataclass(frozen=True)
class RuleLimits:
    """The value rules' limits: the validation parameters, with the dates they allow today."""

    earliest: pd.Timestamp
    latest: pd.Timestamp
    max_leads_dropped: int
    max_interaction_count: int

    @classmethod
    def from_parameters(cls, rules: dict, today: pd.Timestamp) -> RuleLimits:
        """The limits in ``parameters_validation.yml``, as they apply on ``today``."""
        return _limits(
            str(rules["earliest_created_date"]),
            rules["max_days_in_future"],
            rules["max_leads_dropped"],
            rules["max_interaction_count"],
            today.normalize(),
        )

    @property
    def date_rule(self) -> str:
        """The name of the creation-date window rule."""
        return f"date between {self.earliest.date()} and {self.latest.date()}"


# The same limits all day: building them cost a served lead 40 us.
@functools.lru_cache(maxsize=16)
def _limits(
    earliest: str,
    max_days_in_future: int,
    max_leads_dropped: int,
    max_interaction_count: int,
    day: pd.Timestamp,
) -> RuleLimits:
    tolerated = pd.Timedelta(days=max_days_in_future + 1)
    return RuleLimits(
        earliest=pd.Timestamp(earliest),
        # Dates up to the end of the tolerated day count as valid.
        latest=day + tolerated - pd.Timedelta(seconds=1),
        max_leads_dropped=max_leads_dropped,
        max_interaction_count=max_interaction_count,
    )


TIMESTAMP_RULE = f"timestamp {TIMESTAMP_FORMAT}"
LEVEL_RULE = "matches LevelN"
FLAG_RULE = "flag 0 or 1"
LABEL_RULE = "label 0 or 1"


def whole_number_rule(high: int) -> str:
    """The name of the rule for counts from 0 to ``high``."""
    return f"whole number 0-{high}"


def is_whole_number_between(values, low: float, high: float):
    """Which values are whole numbers from ``low`` to ``high`` (NaN is not)."""
    return (values >= low) & (values <= high) & (values == np.floor(values))


def is_flag(values):
    """Which values are 0 or 1."""
    return (values == 0) | (values == 1)


def is_within(timestamps, earliest: pd.Timestamp, latest: pd.Timestamp):
    """Which timestamps fall in the window; one that is missing fails the format rule only."""
    # Against numpy's own scalars: comparing an array with a pandas Timestamp costs a served
    # lead 0.1 ms, with its numpy value a few us.
    earliest, latest = earliest.to_datetime64(), latest.to_datetime64()
    return ((timestamps >= earliest) & (timestamps <= latest)) | pd.isna(timestamps)


# --- the screen: which rows break a rule, in a few vectorised passes over the whole batch -------


def rows_breaking_rules(
    parsed: ParsedLeads,
    interaction_columns: Sequence[str],
    limits: RuleLimits,
) -> np.ndarray:
    """Which rows break any rule of ``raw_lead_schema``: its tests over blocks of parsed cells."""
    created = parsed.created
    # An empty or unreadable date is NaT: the date is required.
    broken = np.isnat(created) | ~is_within(created, limits.earliest, limits.latest)
    broken |= parsed.level_breaks.any(axis=1)
    optional = [
        ([LEADS_DROPPED], lambda v: is_whole_number_between(v, 0, limits.max_leads_dropped)),
        ([REFERRED], is_flag),
        (
            interaction_columns,
            lambda v: is_whole_number_between(v, 0, limits.max_interaction_count),
        ),
    ]
    for columns, test in optional:
        values, blank = parsed.counts(columns)
        broken |= ~(test(values) | blank).all(axis=1)
    if LABEL in parsed.count_columns:
        # An empty label is NaN, which is not a flag: the label is required.
        broken |= ~is_flag(parsed.counts([LABEL])[0][:, 0])
    return broken


_TRUE = arrow.scalar(True)


def breaks_level_rule(leads: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
    """Which level cells are written and not ``LevelN``, rows x level columns."""
    leads = _arrays(leads)

    def breaks(cells: arrow.ChunkedArray) -> arrow.ChunkedArray:
        return pc.invert(pc.coalesce(pc.match_substring_regex(cells, LEVEL_PATTERN), _TRUE))

    # One Arrow call for the three columns, not one pandas call per column: 0.2 against 1.9 ms
    # of CPU a served lead (benchmarks/bench_lead_cells.py).
    return _columnwise(breaks, [arrow_cells(leads[column]) for column in LEVEL_COLUMNS])


# --- the Pandera schema: the same rules, column by column, for the rows the screen flagged -----


def _on_numbers(test: Callable[[np.ndarray], np.ndarray], name: str) -> pa.Check:
    # Pandera passes the column's non-empty cells; an empty one passes unless the column is required.
    # Tested as numpy arrays: pandas' operators cost a flagged served lead several ms.
    import pandera.pandas as pa

    return pa.Check(lambda cells: pd.Series(test(number_array(cells)), cells.index), name=name)


def _on_timestamps(test: Callable[[np.ndarray], np.ndarray], name: str) -> pa.Check:
    import pandera.pandas as pa

    def check(cells: pd.Series) -> pd.Series:
        timestamps = timestamp_array(cells)
        return pd.Series(test(timestamps), cells.index)

    return pa.Check(check, name=name)


def _whole_numbers_up_to(high: int) -> pa.Check:
    return _on_numbers(
        lambda values: is_whole_number_between(values, 0, high), whole_number_rule(high)
    )


# Building a schema costs more than validating one served lead: each is built once a day.
@functools.lru_cache(maxsize=16)
def raw_lead_schema(
    interaction_columns: tuple[str, ...], limits: RuleLimits, with_label: bool
) -> pa.DataFrameSchema:
    """The Pandera schema of an export as written: each column, whether it is required, its rules.

    No column declares a dtype: normalisation makes every one text, and Pandera's dtype check
    would double the cost of a flagged served lead (60 against 110 ms of CPU).
    """
    import pandera.pandas as pa

    is_timestamp = _on_timestamps(lambda dates: ~np.isnat(dates), TIMESTAMP_RULE)
    in_window = _on_timestamps(
        lambda dates: is_within(dates, limits.earliest, limits.latest), limits.date_rule
    )
    # Pandera's own check, which a failure case names by its error message.
    is_level = pa.Check.str_matches(LEVEL_PATTERN, error=LEVEL_RULE)
    clicks = _whole_numbers_up_to(limits.max_interaction_count)
    columns = {
        CREATED_DATE: pa.Column(None, [is_timestamp, in_window], nullable=False),
        **{level: pa.Column(None, is_level, nullable=True) for level in LEVEL_COLUMNS},
        LEADS_DROPPED: pa.Column(
            None, _whole_numbers_up_to(limits.max_leads_dropped), nullable=True
        ),
        REFERRED: pa.Column(None, _on_numbers(is_flag, FLAG_RULE), nullable=True),
        **{column: pa.Column(None, clicks, nullable=True) for column in interaction_columns},
    }
    if with_label:
        columns[LABEL] = pa.Column(None, _on_numbers(is_flag, LABEL_RULE), nullable=False)
    return pa.DataFrameSchema(columns, name="raw_leads")
