"""Raw lead exports as they come from marketing tools: every cell read as text."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.contract import INDEX_COLUMN
from lead_scoring.datasets.atomic_csv_dataset import write_atomically

_CANDIDATE_DELIMITERS = ",;\t|"
# Cells that mean "no value", whichever reader reads the export (pandas' defaults, spelled out).
NULL_TOKENS = (
    *("", "NA", "N/A", "n/a", "<NA>", "#N/A", "#N/A N/A", "#NA", "NULL", "null", "None"),
    *("NaN", "-NaN", "nan", "-nan", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"),
)


def sniff_delimiter(header_line: str) -> str:
    """Pick the delimiter that splits the header into the most fields."""
    counts = {sep: header_line.count(sep) for sep in _CANDIDATE_DELIMITERS}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def check_row_widths(path: Path, encoding: str, sep: str) -> None:
    """Stop on a row whose number of fields differs from the header's.

    pandas' C parser pads a short row with blanks: a row cut short (an export copied halfway, a
    bare line break inside an unquoted value) would be scored as if its last fields were empty.
    """
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        rows = csv.reader(f, delimiter=sep)
        width = len(next(rows))
        for row in rows:
            if row and len(row) != width:
                raise DatasetError(
                    f"Lead export '{path}' line {rows.line_num} has {len(row)} field(s) where "
                    f"the header has {width}: '{sep.join(row)[:80]}'. Is the row cut short, or a "
                    "line break inside an unquoted value? Nothing was read."
                )


def _name_the_index_column(frame: pd.DataFrame, header: list[str]) -> pd.DataFrame:
    """The first column with an empty header is the export's index, wherever it stands.

    pandas names an empty header ``Unnamed: <position>``; ingestion knows it as ``Unnamed: 0``.
    """
    if "" not in header or len(header) != len(frame.columns):
        return frame
    column = frame.columns[header.index("")]
    if column == INDEX_COLUMN or INDEX_COLUMN in frame.columns:
        return frame
    return frame.rename(columns={column: INDEX_COLUMN})


class RawLeadsDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Reads a lead export with every column as text, so validation sees cells as written.

    Handles a UTF-8 byte-order mark, UTF-16 text as spreadsheets save "Unicode text", Windows
    line endings and semicolon- or tab-separated files. Saving writes the export format: an
    unnamed leading index column, then the data.
    """

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._load_args = load_args or {}
        self.metadata = metadata

    def _encoding(self) -> str:
        """UTF-16 when the file starts with its byte-order mark, else UTF-8 (with or without BOM)."""
        with self._filepath.open("rb") as f:
            start = f.read(2)
        return "utf-16" if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"

    def _header_line(self, encoding: str) -> str:
        with self._filepath.open(encoding=encoding, errors="replace", newline="") as f:
            return f.readline()

    def _checked_header(self) -> tuple[str, str]:
        """The export's encoding and header line; a missing or empty file stops here."""
        if not self._filepath.is_file():
            raise DatasetError(f"Lead export '{self._filepath}' does not exist.")
        encoding = self._encoding()
        header = self._header_line(encoding)
        if not header.strip():
            raise DatasetError(f"Lead export '{self._filepath}' is empty: it has no header row.")
        return encoding, header

    def load(self) -> pd.DataFrame:
        encoding, header = self._checked_header()
        read_args = {
            "sep": sniff_delimiter(header),
            "dtype": str,
            "keep_default_na": False,
            "na_values": list(NULL_TOKENS),
            "encoding": encoding,
            "encoding_errors": "replace",
            "skipinitialspace": False,
            "quoting": csv.QUOTE_MINIMAL,
            **self._load_args,
        }
        names = next(csv.reader([header.rstrip("\r\n")], delimiter=read_args["sep"]), [])
        return _name_the_index_column(self._read(read_args), [n.strip() for n in names])

    def _read(self, read_args: dict) -> pd.DataFrame:
        try:
            return pd.read_csv(self._filepath, engine="pyarrow", **read_args)
        except Exception:
            # Arrow refuses quoted line breaks and rows of the wrong width; the C parser reads
            # the former but pads a short row with blanks, so the width is checked first.
            check_row_widths(self._filepath, read_args["encoding"], read_args["sep"])
            try:
                return pd.read_csv(self._filepath, engine="c", **read_args)
            except (pd.errors.ParserError, UnicodeError) as error:
                raise DatasetError(
                    f"Lead export '{self._filepath}' is not a readable CSV: {error}"
                ) from error

    def save(self, data: pd.DataFrame) -> None:
        write_atomically(self._filepath, lambda tmp: data.to_csv(tmp, index=True))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "load_args": self._load_args}
