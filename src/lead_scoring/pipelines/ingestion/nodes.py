"""Ingestion: bring a raw export, as read, to the documented columns and a clean text form."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.compute as pc
from pandas.arrays import ArrowStringArray

from lead_scoring.contract import (
    CITY,
    EXPORT_TEXT,
    LABEL,
    LEAD_ID,
    LEVEL_COLUMNS,
    LEVEL_PATTERN,
    ORIGIN_COLUMNS,
)
from lead_scoring.datasets.raw_leads_dataset import REJECTED_LINES
from lead_scoring.frames import arrays_in_order, column_values, frame_of
from lead_scoring.pipelines.validation import (
    UNKNOWN_COLUMNS,
    UNREADABLE_CELLS,
    arrow_cells,
)

logger = logging.getLogger(__name__)

_LEVEL_SPELLING = r"(?i)^level\s*(\d+)$"
_FLOAT_ID = r"^(\d+)\.0+$"
_LARGE_TEXT = arrow.large_string()
_MISSING_TEXT = arrow.scalar(None, _LARGE_TEXT)
# Arrow's own scalar: a Python "" is converted on every call, 10 of a served lead's 13 us.
_EMPTY_TEXT = arrow.scalar("", _LARGE_TEXT)
_NO_TEXT = arrow.array([], _LARGE_TEXT)


# pandas' text array of cleaned Arrow text is made from this one, without the checks of its
# constructor: 1 against 1.8 us a column.
_TEXT_ARRAY = ArrowStringArray(arrow.array([], _LARGE_TEXT), dtype=EXPORT_TEXT)


_CONTAINERS: dict[type, str] = {dict: "object", list: "list", tuple: "list", set: "list"}


def _as_text(column, name: str = "", unreadable: dict | None = None) -> arrow.Array:
    """A column's cells (its pandas array) as Arrow text, whatever pandas held them as.

    A served record's cell may be a JSON object or list, which is no value of a lead: it is
    emptied and its row noted in ``unreadable``, for validation to quarantine.
    """
    try:
        cells = arrow_cells(column)
    # An integer beyond 64 bits overflows Arrow; it is read as its text like other numbers.
    except (arrow.ArrowInvalid, arrow.ArrowTypeError, OverflowError):
        cells = None
    if cells is None and column.dtype == object:
        kinds = [_CONTAINERS.get(type(value)) for value in column]
        if any(kinds):
            for position, kind in enumerate(kinds):
                if kind and unreadable is not None:
                    unreadable.setdefault(
                        position, (name, f"one value expected, got a JSON {kind}")
                    )
            column = np.where([kind is None for kind in kinds], column, None)
            try:
                cells = arrow_cells(column)
            except (arrow.ArrowInvalid, arrow.ArrowTypeError, OverflowError):
                cells = None
    if cells is not None and arrow.types.is_null(cells.type):
        # A column left empty in every served record.
        return arrow.nulls(len(cells), arrow.large_string())
    if cells is None or not (
        arrow.types.is_string(cells.type) or arrow.types.is_large_string(cells.type)
    ):
        # Served records may mix numbers and text; a number is read as its text.
        cells = arrow_cells(pd.Series(column).astype("str").array)
    return cells.cast(arrow.large_string())


def _is_arrow_text(column) -> bool:
    return isinstance(column, ArrowStringArray) and arrow.types.is_large_string(
        column._pa_array.type
    )


def _text_chunks(
    columns: list, names: list[str], unreadable: dict | None
) -> tuple[list[arrow.Array], list[int]]:
    """The columns' cells as Arrow text, as few conversions as the kinds allow, and the order of
    the columns in them.

    Columns pandas holds as Arrow text are taken as they are; the object columns (a served
    record's empty cells) are laid end to end and converted at once, first: per column, the
    conversion costs a served lead 0.45 ms, at once 0.05 (pandas 3.1, median of 2,000), and
    cutting them apart again only to lay them end to end 0.03 more.
    Anything else, or object columns that do not convert to text together, go one by one.
    """
    objects = [
        position
        for position, column in enumerate(columns)
        if isinstance(column, np.ndarray) and column.dtype == object
    ]
    chunks: list[arrow.Array] = []
    if objects:
        try:
            together = arrow_cells(np.concatenate([columns[position] for position in objects]))
        except (arrow.ArrowInvalid, arrow.ArrowTypeError, OverflowError):
            together = None
        if together is not None and arrow.types.is_null(together.type):
            together = arrow.nulls(len(together), _LARGE_TEXT)
        if together is not None and (
            arrow.types.is_string(together.type) or arrow.types.is_large_string(together.type)
        ):
            chunks.append(together.cast(_LARGE_TEXT))
        else:
            objects = []
    order = list(objects)
    laid = set(objects)
    for position, (column, name) in enumerate(zip(columns, names, strict=True)):
        if position in laid:
            continue
        order.append(position)
        if _is_arrow_text(column):
            chunks.extend(column._pa_array.chunks)
        else:
            chunks.append(_as_text(column, name, unreadable))
    return chunks, order


def _cleaned_text(
    columns: list, names: list[str] | None = None, unreadable: dict | None = None
) -> list[arrow.Array]:
    """Each column's cells stripped, with blank cells missing."""
    if not columns:
        return []
    rows = len(columns[0])
    names = names or [""] * len(columns)
    chunks, order = _text_chunks(columns, names, unreadable)
    # Cleaned in one Arrow call over the columns laid end to end: on a served lead, the cost
    # of a call is the whole cost. Laid as one array, not a chunked one: 13 against 31 us.
    text = pc.utf8_trim_whitespace(arrow.concat_arrays(chunks) if chunks else _NO_TEXT)
    text = pc.if_else(pc.equal(text, _EMPTY_TEXT), _MISSING_TEXT, text)
    start = {position: rank * rows for rank, position in enumerate(order)}
    return [text.slice(start[position], rows) for position in range(len(columns))]


def _spelt_canonically(levels: arrow.Array | arrow.ChunkedArray) -> bool:
    """Whether every level written is spelt ``LevelN``."""
    return pc.all(pc.match_substring_regex(levels, LEVEL_PATTERN)).as_py() is not False


def _canonical_levels(levels: arrow.Array) -> arrow.Array:
    """``level7`` or ``LEVEL 7`` as ``Level7``; only the odd spellings pay for the regex."""
    if _spelt_canonically(levels):
        return levels
    return pc.replace_substring_regex(levels, _LEVEL_SPELLING, r"Level\1")


def _canonical_ids(ids: arrow.Array) -> arrow.Array:
    """``12.0`` as ``12``: what pandas makes of a numeric id column with a blank in it."""
    if not pc.any(pc.match_substring_regex(ids, _FLOAT_ID)).as_py():
        return ids
    return pc.replace_substring_regex(ids, _FLOAT_ID, r"\1")


def normalise_raw_leads(
    raw: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """Keep the export's known columns as stripped text, with a lead id and canonical spelling."""
    index_column = params["index_column"]
    id_column = params.get("lead_id_column", LEAD_ID)
    # A chunk of a large export is indexed by its rows' positions in the export.
    positions = raw.index if isinstance(raw.index, pd.RangeIndex) else pd.RangeIndex(len(raw))
    names = [str(name).strip().lstrip("\ufeff") or index_column for name in raw.columns.tolist()]
    known = [*ORIGIN_COLUMNS, *column_values(interaction_mapping, "interaction_type"), LABEL]
    expected = {*known, index_column, id_column}
    extra = [name for name in names if name not in expected]
    if extra:
        logger.warning("Ignoring %d unknown column(s): %s", len(extra), ", ".join(extra[:10]))
    found: dict[str, Any] = {}
    # Each column's array, not a Series per column: 1.3 ms of a served lead's 46 columns.
    for name, cells in zip(names, arrays_in_order(raw), strict=True):
        if name in found and name != index_column:
            # Two columns of one name may hold different values: which is the lead's is unclear.
            from lead_scoring.errors import DuplicateColumnError  # MLflow's: errors.py says why

            raise DuplicateColumnError(
                f"The lead export has the column '{name}' twice: which one holds the leads' "
                "values is unclear. Remove or rename one. Nothing was scored."
            )
        found.setdefault(name, cells)

    # Arrow cleans the text at a fraction of pandas' cost per call, which is what a served lead
    # pays for; the frame is built once at the end.
    present = [name for name in [id_column, index_column, *known] if name in found]
    unreadable: dict[int, tuple[str, str]] = {}
    cleaned = _cleaned_text([found[name] for name in present], present, unreadable)
    columns = dict(zip(present, cleaned, strict=True))
    # The explicit id column names a lead wherever it stands; else pandas' index, which names
    # the row; else the 0-based row number.
    lead_ids = columns.pop(id_column, None)
    row_names = columns.pop(index_column, None)
    if lead_ids is not None:
        lead_ids = _canonical_ids(lead_ids)
    elif row_names is not None:
        lead_ids = row_names
    else:
        lead_ids = arrow.array(positions.astype("str"), from_pandas=True)
    columns = {LEAD_ID: lead_ids, **columns}
    if CITY in columns:
        columns[CITY] = pc.utf8_lower(columns[CITY])
    levels = [level for level in LEVEL_COLUMNS if level in columns]
    # One check of the level columns together, as nearly every export spells them right:
    # one call, not one a column (15 us each on a served lead).
    if levels and not _spelt_canonically(arrow.chunked_array([columns[c] for c in levels])):
        for level in levels:
            columns[level] = _canonical_levels(columns[level])
    # pandas' own text arrays over the cleaned Arrow data, with no copy: Arrow's general
    # conversion to pandas costs a served lead about twice as much.
    leads = frame_of(
        {name: _TEXT_ARRAY._from_pyarrow_array(cells) for name, cells in columns.items()},
        pd.RangeIndex(len(raw)),
    )
    # Validation names them when a required column is missing: often it is one of these, misspelt.
    leads.attrs[UNKNOWN_COLUMNS] = extra
    if unreadable:
        leads.attrs[UNREADABLE_CELLS] = unreadable
    if raw.attrs.get(REJECTED_LINES):
        leads.attrs[REJECTED_LINES] = raw.attrs[REJECTED_LINES]
    return leads
