"""Lead exports read lazily, a chunk of rows at a time, so scoring memory stays flat."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from kedro.io import DatasetError

from lead_scoring.contract import INDEX_COLUMN, LEAD_ID
from lead_scoring.datasets.export_lines import ExportScanner, ScannedBlock
from lead_scoring.datasets.raw_leads_dataset import NULL_TOKENS, RawLeadsDataset

logger = logging.getLogger(__name__)

_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
REJECTED_COLUMNS = ["line", "lead_id", "reason"]


class ExportChunk(NamedTuple):
    """Leads of a stretch of the export, the file line each starts on, and the lines rejected."""

    leads: pd.DataFrame
    lines: np.ndarray
    rejected: pd.DataFrame


def _rejected_frame(rejected: list) -> pd.DataFrame:
    if not rejected:
        return _NO_REJECTED.copy()
    return _frame_of(rejected)


def _frame_of(rejected: list) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.line, r.lead_id, r.reason) for r in rejected], columns=REJECTED_COLUMNS
    ).astype({"line": "int64"})


# Nearly every chunk rejects no line: its empty frame is built once and copied (1.5 ms a
# one-lead file saved, measured on 300 files).
_NO_REJECTED = _frame_of([])


class ChunkedLeads(Protocol):
    """Raw leads read ``rows`` at a time, as an export on disk or the lead store gives them."""

    def read(self, rows: int) -> Iterator[ExportChunk]: ...


class LeadExport:
    """A raw export on disk: ``read(rows)`` yields it ``rows`` leads at a time, every line told."""

    def __init__(self, path: Path, encoding: str, delimiter: str, names: list[str]) -> None:
        self.path, self.encoding, self.delimiter, self.names = path, encoding, delimiter, names
        stripped = [name.strip() for name in names]
        # A rejected line is named by the lead's id: the explicit id column, else pandas' index.
        id_position = (
            stripped.index(LEAD_ID)
            if LEAD_ID in stripped
            else next((i for i, n in enumerate(stripped) if n in ("", INDEX_COLUMN)), None)
        )
        self._scanner = ExportScanner(path, encoding, delimiter, names, id_position)
        header = self.delimiter.join(_quoted(name, delimiter) for name in names)
        self._header_bytes = header.encode("utf-8")
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
        tables: list[pa.Table] = []
        lines: list[np.ndarray] = []
        rejected: list = []
        pending, offset = 0, 0
        for block in self._scanner.blocks(self._header_bytes):
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
            table = pa.concat_tables(tables) if tables else None
            all_lines = np.concatenate(lines) if lines else np.empty(0, dtype=np.int64)
            yield self._chunk(table, all_lines, offset, rejected)
        if self._scanner.decoded_lines:
            decoded = self._scanner.decoded_lines
            logger.warning(
                "%d line(s) of %s are not UTF-8 and were read as %s (first: line %d).",
                len(decoded),
                self.path.name,
                self._scanner._fallback,
                decoded[0],
            )

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        """The leads only, ``rows`` at a time; rejected lines are logged, not returned."""
        for chunk in self.read(rows):
            for line in chunk.rejected.itertuples():
                logger.warning("Line %d of %s not read: %s", line.line, self.path, line.reason)
            if len(chunk.leads):
                yield chunk.leads

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

    def _chunk(self, table, lines, offset, rejected) -> ExportChunk:
        if table is None:
            frame = pd.DataFrame({name: pd.Series([], dtype=_TEXT) for name in self._names})
        else:
            frame = table.to_pandas(types_mapper=lambda _: _TEXT)
            frame.columns = self._names
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        return ExportChunk(frame, lines, _rejected_frame(rejected))


def _quoted(name: str, delimiter: str) -> str:
    return f'"{name}"' if delimiter in name or '"' in name else name


class LeadExportDataset(RawLeadsDataset):
    """A raw lead export loaded lazily: ``load()`` returns a ``LeadExport`` to read in chunks."""

    def load(self) -> LeadExport:
        return self._export()
