"""Lead exports read lazily, a chunk of rows at a time, so scoring memory stays flat."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from kedro.io import DatasetError

from lead_scoring.contract import INDEX_COLUMN
from lead_scoring.datasets.raw_leads_dataset import (
    NULL_TOKENS,
    RawLeadsDataset,
    _name_the_index_column,
    check_row_widths,
    sniff_delimiter,
)

_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


class LeadExport:
    """A raw export on disk: ``chunks(rows)`` yields it as text frames indexed by row position."""

    def __init__(self, path: Path, encoding: str, delimiter: str, names: list[str]) -> None:
        self.path, self.encoding, self.delimiter, self.names = path, encoding, delimiter, names

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        """The export ``rows`` leads at a time; Arrow's reader, pandas' for what Arrow rejects."""
        done = 0
        if self.encoding == "utf-8-sig":
            try:
                for chunk in self._arrow_chunks(rows):
                    yield chunk
                    done += len(chunk)
                return
            except pa.ArrowInvalid:
                pass  # Bytes that are not UTF-8 or ragged rows: pandas reads on from here.
        yield from self._pandas_chunks(rows, skip=done)

    def _arrow_chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        reader = pacsv.open_csv(
            self.path,
            # Arrow reads up to 32 blocks ahead of the rows asked for. Blocks of 8 MiB held up to
            # 256 MiB of an export that big (a 4M-lead export needed ~200 MiB more than a 1M-lead
            # one); 1 MiB blocks hold 32 MiB whatever its size, and read no slower.
            read_options=pacsv.ReadOptions(block_size=1 << 20),
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in self.names},
                null_values=list(NULL_TOKENS),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        pending: list[pa.RecordBatch] = []
        pending_rows, offset = 0, 0
        for batch in reader:
            pending.append(batch)
            pending_rows += batch.num_rows
            while pending_rows >= rows:
                table = pa.Table.from_batches(pending)
                yield self._frame(table.slice(0, rows), offset)
                offset += rows
                rest = table.slice(rows)
                pending, pending_rows = rest.to_batches(), rest.num_rows
        if pending_rows:
            yield self._frame(pa.Table.from_batches(pending), offset)

    def _frame(self, table: pa.Table, offset: int) -> pd.DataFrame:
        frame = table.to_pandas(types_mapper=lambda _: _TEXT)
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        # Arrow keeps the empty header of the index column; pandas calls it ``Unnamed: 0``.
        return frame.rename(columns={"": INDEX_COLUMN})

    def _pandas_chunks(self, rows: int, skip: int) -> Iterator[pd.DataFrame]:
        # The C parser pads a short row with blanks: a row cut short must stop, not score.
        check_row_widths(self.path, self.encoding, self.delimiter)
        try:
            reader = pd.read_csv(
                self.path,
                sep=self.delimiter,
                dtype=str,
                keep_default_na=False,
                na_values=list(NULL_TOKENS),
                encoding=self.encoding,
                encoding_errors="replace",
                quoting=csv.QUOTE_MINIMAL,
                skiprows=range(1, skip + 1),
                chunksize=rows,
                engine="c",
            )
            offset = skip
            for chunk in reader:
                chunk = _name_the_index_column(chunk, [name.strip() for name in self.names])
                chunk.index = pd.RangeIndex(offset, offset + len(chunk))
                offset += len(chunk)
                yield chunk
        except (pd.errors.ParserError, UnicodeError) as error:
            raise DatasetError(
                f"Lead export '{self.path}' is not a readable CSV: {error}"
            ) from error


class LeadExportDataset(RawLeadsDataset):
    """A raw lead export loaded lazily: ``load()`` returns a ``LeadExport`` to read in chunks."""

    def load(self) -> LeadExport:  # type: ignore[override]
        encoding, header = self._checked_header()
        delimiter = sniff_delimiter(header)
        names = next(csv.reader([header.rstrip("\r\n").lstrip("\ufeff")], delimiter=delimiter))
        return LeadExport(self._filepath, encoding, delimiter, names)
