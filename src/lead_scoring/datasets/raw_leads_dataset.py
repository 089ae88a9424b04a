"""Raw lead exports as they come from marketing tools: every cell read as text."""

from __future__ import annotations

import codecs
import csv
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.datasets.atomic_csv_dataset import write_atomically
from lead_scoring.datasets.compressed_export import open_export, read_start

logger = logging.getLogger(__name__)

_CANDIDATE_DELIMITERS = ",;\t|"
# Lines of the export that are no lead's record: (line, lead id, reason), in ``attrs``.
REJECTED_LINES = "rejected_lines"
# The file line each lead's record starts on, in row order (a ``RecordLines``), in ``attrs``.
RECORD_LINES = "record_lines"
# Read whole: one chunk.
_WHOLE_EXPORT = 1 << 62
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

    __hash__ = None  # type: ignore[assignment]


def record_lines(raw: pd.DataFrame) -> np.ndarray:
    """Each row's file line: as the reader found it, else one line per row after the header."""
    found = raw.attrs.get(RECORD_LINES)
    # A frame sliced or reordered since it was read keeps the attrs but not the order.
    as_read = isinstance(raw.index, pd.RangeIndex) and raw.index.equals(pd.RangeIndex(len(raw)))
    if isinstance(found, RecordLines) and len(found.lines) == len(raw) and as_read:
        return found.lines
    return np.arange(2, len(raw) + 2, dtype=np.int64)


def sniff_delimiter(header_line: str) -> str:
    """Pick the delimiter that splits the header into the most fields."""
    counts = {sep: header_line.count(sep) for sep in _CANDIDATE_DELIMITERS}
    return max(counts, key=counts.__getitem__) if max(counts.values()) else ","


def duplicated_column(names: list[str]) -> tuple[str, int, int] | None:
    """The first header name given twice, with both 1-based positions."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            continue
        if name in seen:
            return name, seen[name], position
        seen[name] = position
    return None


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
        start = read_start(self._filepath, 2)
        return "utf-16" if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"

    def _header_line(self, encoding: str) -> str:
        with open_export(self._filepath) as stream:
            text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
            return text.readline()

    def _checked_header(self) -> tuple[str, str]:
        """The export's encoding and header line; a missing or empty file stops here."""
        if not self._filepath.is_file():
            raise DatasetError(f"Lead export '{self._filepath}' does not exist.")
        encoding = self._encoding()
        header = self._header_line(encoding)
        if not header.strip():
            raise DatasetError(f"Lead export '{self._filepath}' is empty: it has no header row.")
        return encoding, header

    def _export(self):
        """The export's header checked, ready to read through the one shared reading path."""
        from lead_scoring.datasets.lead_export_dataset import LeadExport

        encoding, header = self._checked_header()
        delimiter = sniff_delimiter(header)
        line = header.rstrip("\r\n").lstrip("\ufeff")
        names = next(csv.reader([line], delimiter=delimiter), [])
        duplicate = duplicated_column([name.strip() for name in names])
        if duplicate is not None:
            name, first, second = duplicate
            raise DatasetError(
                f"Lead export '{self._filepath}' has the column '{name}' twice (columns {first} "
                f"and {second}): which one holds the leads' values is unclear. Remove or rename "
                "one. Nothing was read."
            )
        return LeadExport(self._filepath, encoding, delimiter, names)

    def load(self) -> pd.DataFrame:
        chunks = list(self._export().read(_WHOLE_EXPORT))
        leads = pd.concat([chunk.leads for chunk in chunks])
        leads.index = pd.RangeIndex(len(leads))
        rejected = pd.concat([chunk.rejected for chunk in chunks], ignore_index=True)
        # Lines that are no lead's record (blank, a stray quote, undecodable bytes) travel with
        # the leads, so validation quarantines them with the rest.
        leads.attrs[REJECTED_LINES] = list(rejected.itertuples(index=False, name=None))
        # A record's line is its row + 2 only until a blank line or a quoted line break.
        leads.attrs[RECORD_LINES] = RecordLines(np.concatenate([chunk.lines for chunk in chunks]))
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
        write_atomically(self._filepath, lambda tmp: data.to_csv(tmp, index=True))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "load_args": self._load_args}
