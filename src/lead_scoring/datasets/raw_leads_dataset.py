"""Raw lead exports as marketing tools send them, every cell read as text: the one reader.

``RawLeadsDataset`` loads an export whole, or chunked; both through ``LeadExport.read``, over the
line scan of ``export_lines``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.contract import EXPORT_TEXT, INDEX_COLUMN
from lead_scoring.datasets.export_lines import (
    ExportScanner,
    RejectedLine,
    ScannedBlock,
    read_header,
)
from lead_scoring.datasets.publish import write_atomically

logger = logging.getLogger(__name__)

# Lines of the export that are no lead's record: (line, lead id, reason), in ``attrs``.
REJECTED_LINES = "rejected_lines"
# The file line each lead's record starts on, in row order (a ``RecordLines``), in ``attrs``.
RECORD_LINES = "record_lines"
# Read whole: one chunk.
_WHOLE_EXPORT = 1 << 62
REJECTED_COLUMNS = ["line", "lead_id", "reason"]
# Cells that mean "no value", whichever reader reads the export (pandas' defaults, spelled out).
NULL_TOKENS = (
    *("", "NA", "N/A", "n/a", "<NA>", "#N/A", "#N/A N/A", "#NA", "NULL", "null", "None"),
    *("NaN", "-NaN", "nan", "-nan", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"),
)


class RecordLines:
    """Each lead's file line (the header is line 1), carried in a frame's ``attrs``.

    Immutable: pandas deep-copies ``attrs`` on most operations and compares them in ``concat``,
    which for a bare array would copy it each time, and fail to compare.
    """

    __slots__ = ("lines",)

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = np.array(lines, dtype=np.int64)
        self.lines.flags.writeable = False

    def __deepcopy__(self, memo: dict) -> RecordLines:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordLines) and np.array_equal(self.lines, other.lines)


def record_lines(raw: pd.DataFrame) -> np.ndarray:
    """Each row's file line: as the reader found it, else one line per row after the header."""
    found = raw.attrs.get(RECORD_LINES)
    # A frame sliced or reordered since it was read keeps the attrs but not the order.
    as_read = isinstance(raw.index, pd.RangeIndex) and raw.index.equals(pd.RangeIndex(len(raw)))
    if isinstance(found, RecordLines) and len(found.lines) == len(raw) and as_read:
        return found.lines
    return np.arange(2, len(raw) + 2, dtype=np.int64)


class ExportChunk(NamedTuple):
    """Leads of a stretch of the export, the file line each starts on, and the lines rejected."""

    leads: pd.DataFrame
    lines: np.ndarray
    rejected: pd.DataFrame


def _rejected_frame(rejected: list[RejectedLine]) -> pd.DataFrame:
    if not rejected:
        return _NO_REJECTED.copy()
    return pd.DataFrame(rejected, columns=REJECTED_COLUMNS).astype({"line": "int64"})


# Nearly every chunk rejects no line: its empty frame is built once and copied (1.5 ms a
# one-lead file saved, measured on 300 files).
_NO_REJECTED = pd.DataFrame(columns=REJECTED_COLUMNS).astype({"line": "int64"})


class ChunkedLeads(Protocol):
    """Raw leads read ``rows`` at a time, as an export on disk or the lead store gives them."""

    def read(self, rows: int) -> Iterator[ExportChunk]: ...


class LeadExport:
    """A raw export on disk: ``read(rows)`` yields it ``rows`` leads at a time, every line told."""

    def __init__(self, path: Path) -> None:
        """Reads and checks the export's header; the rest is read by ``read``."""
        if not path.is_file():
            raise DatasetError(f"Lead export '{path}' does not exist.")
        encoding, header = read_header(path)
        if not header.strip():
            raise DatasetError(f"Lead export '{path}' is empty: it has no header row.")
        # The delimiter that splits the header most; a comma on a tie or for a one-column file.
        self.path, self.delimiter = path, max(",;\t|", key=header.count)
        line = header.rstrip("\r\n").lstrip("\ufeff")
        names = next(csv.reader([line], delimiter=self.delimiter), [])
        positions: dict[str, int] = {}  # each name's first, linear in a hostile header's width
        for second, name in enumerate((name.strip() for name in names), start=1):
            first = positions.setdefault(name, second)
            if name and first != second:
                raise DatasetError(
                    f"Lead export '{path}' has the column '{name}' twice (columns {first} and "
                    f"{second}): which one holds the leads' values is unclear. Remove or rename "
                    "one. Nothing was read."
                )
        self._scanner = ExportScanner(path, encoding, self.delimiter, names)
        self._columns = [f"c{i}" for i in range(len(names))]
        # The first empty header is the index column, which ingestion knows as ``Unnamed: 0``;
        # any other is named by its position, as pandas names it.
        first_empty = names.index("") if "" in names else None
        self._names = [
            name or (INDEX_COLUMN if position == first_empty else f"Unnamed: {position}")
            for position, name in enumerate(names)
        ]

    def read(self, rows: int) -> Iterator[ExportChunk]:
        """Leads ``rows`` at a time, indexed by position among the export's leads."""
        # Empty to start with, so the export's one chunk is made the same way with no lead.
        tables = [pa.table({name: pa.array([], pa.string()) for name in self._columns})]
        lines: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
        rejected: list[RejectedLine] = []
        pending, offset = 0, 0
        for block in self._scanner.blocks():
            rejected += block.rejected
            if len(block.lines):
                tables.append(self._parse(block))
                lines.append(block.lines)
                pending += len(block.lines)
            while pending >= rows:
                table, all_lines = pa.concat_tables(tables), np.concatenate(lines)
                yield self._chunk(table.slice(0, rows), all_lines[:rows], offset, rejected)
                offset, rejected = offset + rows, []
                tables, lines = [table.slice(rows)], [all_lines[rows:]]
                pending -= rows
        if pending or rejected or offset == 0:
            yield self._chunk(pa.concat_tables(tables), np.concatenate(lines), offset, rejected)
        if decoded := self._scanner.decoded_lines:
            logger.warning(
                "%d line(s) of %s are not UTF-8 and were read as %s (first: line %d).",
                len(decoded),
                self.path.name,
                self._scanner.fallback,
                decoded[0],
            )

    def _parse(self, block: ScannedBlock) -> pa.Table:
        try:
            table = pacsv.read_csv(
                pa.py_buffer(block.text),
                read_options=pacsv.ReadOptions(column_names=self._columns, use_threads=False),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter, newlines_in_values=True, ignore_empty_lines=False
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in self._columns},
                    null_values=list(NULL_TOKENS),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as error:
            first = str(error).strip().splitlines()[0]
            raise DatasetError(
                f"Lead export '{self.path}' near line {block.lines[0]} is not a readable CSV: "
                f"{first}. Nothing was written."
            ) from error
        if table.num_rows != len(block.lines):
            raise DatasetError(
                f"Lead export '{self.path}': {table.num_rows} records parsed from "
                f"{len(block.lines)} lines near line {block.lines[0]}; nothing was written."
            )
        return table

    def _chunk(
        self, table: pa.Table, lines: np.ndarray, offset: int, rejected: list[RejectedLine]
    ) -> ExportChunk:
        frame = table.to_pandas(types_mapper=lambda _: EXPORT_TEXT)
        frame.columns = self._names
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        return ExportChunk(frame, lines, _rejected_frame(rejected))


class RawLeadsDataset(AbstractDataset[pd.DataFrame, pd.DataFrame | LeadExport]):
    """Reads a lead export with every column as text, so validation sees cells as written.

    Handles a UTF-8 byte-order mark, UTF-16 text as spreadsheets save "Unicode text", Windows
    line endings, semicolon- or tab-separated files, and gzip or one-file zip deliveries.
    ``chunked: true`` makes ``load()`` return a ``LeadExport`` to read a chunk at a time. Saving
    writes the export format, atomically: an unnamed leading index column, then the data.
    """

    def __init__(
        self,
        *,
        filepath: str,
        chunked: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._chunked = chunked
        self.metadata = metadata

    def load(self) -> pd.DataFrame | LeadExport:
        export = LeadExport(self._filepath)
        if self._chunked:
            return export
        # Unpacked, not ``next()``: the reader logs the lines it transcoded once it is exhausted.
        ((leads, lines, rejected),) = export.read(_WHOLE_EXPORT)
        # Lines that are no lead's record (blank, a stray quote, undecodable bytes) travel with
        # the leads, so validation quarantines them with the rest.
        leads.attrs[REJECTED_LINES] = list(rejected.itertuples(index=False, name=None))
        # A record's line is its row + 2 only until a blank line or a quoted line break.
        leads.attrs[RECORD_LINES] = RecordLines(lines)
        if len(rejected):
            first = rejected.iloc[0]
            logger.warning(
                "%d line(s) of %s hold no lead and are quarantined; first: line %d, %s",
                len(rejected),
                self._filepath.name,
                first["line"],
                first["reason"],
            )
        return leads

    def save(self, data: pd.DataFrame) -> None:
        write_atomically(self._filepath, lambda staged: data.to_csv(staged, index=True))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def describe(self) -> dict[str, Any]:
        """The file read and whether ``load`` reads it in chunks."""
        return {"filepath": str(self._filepath), "chunked": self._chunked}

    _describe = describe  # the name Kedro's ``repr`` calls
