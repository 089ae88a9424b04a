"""Columns in and out of pandas frames at a fixed cost of microseconds, not milliseconds.

The scoring core works on each column's array and hands frames between its nodes. On a one-row
frame, pandas' own ways in and out cost more than the work: reading a 46-column served request
column by column builds a Series per column (1.3 ms), and building a frame from a dict of arrays
infers each column's type again (4.3 ms for 46 columns, mostly text turned from object to str);
the two functions here take 0.11 and 0.16 ms (pandas 3.1, one idle core, median of 2,000).
Both go through pandas' own constructors without the per-column checks, which is safe for the
arrays this project builds: one dimension, one length, numpy or pandas extension arrays. pandas
is pinned, and tests/test_frames.py holds both to the public constructors' results.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.internals import BlockPlacement
from pandas.api.extensions import ExtensionArray
from pandas.arrays import ArrowStringArray, DatetimeArray, TimedeltaArray
from pandas.core.internals.api import _make_block
from pandas.core.internals.blocks import ExtensionBlock
from pandas.core.internals.managers import BlockManager


def arrays_in_order(frame: pd.DataFrame) -> list[Any]:
    """Each column's array in column order (two columns of one name stay two)."""
    # Block by block, not column by column through pandas' lookup of each column's block:
    # 13 against 60 us for a served request's 46 columns (pandas 3.1, median of 2,000).
    arrays: list[Any] = [None] * frame.shape[1]
    for block in frame._mgr.blocks:
        values = block.values
        if values.ndim == 1:
            arrays[block.mgr_locs.as_array[0]] = values
        else:
            for row, position in enumerate(block.mgr_locs.as_array):
                arrays[position] = values[row]
    return arrays


def column_arrays(frame: pd.DataFrame) -> dict[Any, Any]:
    """Each column's array by name, without a Series per column."""
    return dict(zip(column_names(frame), arrays_in_order(frame), strict=True))


def column_names(frame: pd.DataFrame) -> list[Any]:
    """The frame's column names as a list; the names of a ``column_labels`` index are kept.

    pandas' Arrow-backed text index costs 1 us a name to iterate and 25 us to list.
    """
    labels = frame.columns
    kept = _NAMES_OF_LABELS.get(id(labels))
    if kept is not None and kept[0] is labels:
        return list(kept[1])
    return labels.tolist()


def column_array(frame: pd.DataFrame, name: Any) -> Any:
    """One column's array, without the Series ``frame[name]`` builds around it (20 us)."""
    return frame._get_column_array(frame.columns.get_loc(name))


def frame_of(
    columns: Mapping[Any, Any],
    index: pd.Index,
    labels: pd.Index | None = None,
    kind: type[pd.DataFrame] = pd.DataFrame,
) -> pd.DataFrame:
    """A frame of ready-made column arrays, each kept as it is (object text stays object).

    ``labels`` names the columns when given, else the keys of ``columns`` do; ``kind`` is the
    frame's class, pandas' own or a subclass.
    """
    arrays = list(columns.values())
    labels = column_labels(tuple(columns)) if labels is None else labels
    blocks = _blocks(arrays)
    if blocks is None:
        return kind._from_arrays(arrays, columns=labels, index=index, verify_integrity=False)
    manager = BlockManager(tuple(blocks), [labels, index], verify_integrity=False)
    return kind._from_mgr(manager, manager.axes)


# pandas' arrays that are only ever one-dimensional: each is a block of its own.
_ONE_DIMENSIONAL = frozenset({ArrowStringArray, pd.Categorical})

# numpy kinds pandas keeps as they are, in one 2-D block per dtype: numbers, booleans, objects
# and datetimes (which it wraps in its own datetime array).
_NUMPY_KINDS = frozenset("biufcOMm")


def _blocks(arrays: list[Any]) -> list[Any] | None:
    """pandas' blocks for the arrays, laid out as its constructor lays them out; None for an
    array this does not know.

    pandas' constructor sorts the arrays into blocks with checks and passes per column: a
    served lead's 45 text columns cost 130 us that way, 40 us this way (pandas 3.1, median of
    2,000).
    """
    by_dtype: dict[np.dtype, list[int]] = {}
    blocks = []
    for position, values in enumerate(arrays):
        if type(values) in _ONE_DIMENSIONAL:
            # The text and category arrays of nearly every column, told at once.
            blocks.append(ExtensionBlock(values, ndim=2, placement=_placement(position)))
            continue
        if isinstance(values, DatetimeArray | TimedeltaArray) and isinstance(
            values.dtype, np.dtype
        ):
            # Held as numpy's own datetimes, which pandas wraps again.
            values = arrays[position] = np.asarray(values)
        if isinstance(values, np.ndarray):
            if values.ndim != 1 or values.dtype.kind not in _NUMPY_KINDS:
                return None
            by_dtype.setdefault(values.dtype, []).append(position)
        elif isinstance(values, ExtensionArray) and not values.dtype._supports_2d:
            blocks.append(ExtensionBlock(values, ndim=2, placement=_placement(position)))
        else:
            return None
    for dtype, positions in by_dtype.items():
        stacked = np.stack([arrays[position] for position in positions])
        if dtype.kind == "M":
            # pandas' datetime array around numpy's own datetimes, without re-checking each
            # value as its constructor does (50 us a frame).
            stacked = DatetimeArray._simple_new(stacked, dtype=dtype)
        blocks.append(_make_block(stacked, np.array(positions)))
    return blocks


# The scoring core builds frames of the same few column sets on every request, and an index of
# names costs more to build than the frame around it (pandas infers its text type each time).
@functools.lru_cache(maxsize=256)
def column_labels(names: tuple[Any, ...], dtype: str | None = None) -> pd.Index:
    """The column index of ``names``, built once (an index never changes)."""
    labels = pd.Index(names, dtype=dtype)
    # Held with the index, so its id names no other while it is here.
    if len(_NAMES_OF_LABELS) < 1024:
        _NAMES_OF_LABELS[id(labels)] = (labels, list(names))
    return labels


_NAMES_OF_LABELS: dict[int, tuple[pd.Index, list[Any]]] = {}


class SharedFrame(pd.DataFrame):
    """A frame carried in another's ``attrs``, only ever read: a deep copy shares it.

    pandas deep-copies a frame's ``attrs`` into every frame and Series taken from it, so the
    model input the scoring answer carries was copied once per column whenever the answer was
    read: 1.6 of 2.8 ms turning a served lead's answer into JSON. Frames derived from this one
    are plain frames again.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def __deepcopy__(self, memo: dict) -> SharedFrame:
        return self


def column_values(frame: pd.DataFrame, name: Any) -> list[Any]:
    """One column's values as a list of Python objects (a reference table's names).

    Through numpy's objects: iterating pandas' Arrow-backed text costs 1.4 us a value, 66 us
    for the 37 interaction columns' names, against 6 us this way.
    """
    return np.asarray(column_array(frame, name), dtype=object).tolist()


# A block's placement is never changed in place (pandas assigns a new one): one per position.
@functools.lru_cache(maxsize=1024)
def _placement(position: int) -> BlockPlacement:
    return BlockPlacement(slice(position, position + 1))
