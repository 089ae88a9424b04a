"""Raw lead exports as they come from marketing tools: every cell read as text."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.datasets.atomic_csv_dataset import write_atomically

_CANDIDATE_DELIMITERS = ",;\t|"


def sniff_delimiter(header_line: str) -> str:
    """Pick the delimiter that splits the header into the most fields."""
    counts = {sep: header_line.count(sep) for sep in _CANDIDATE_DELIMITERS}
    return max(counts, key=counts.get) if max(counts.values()) else ","


class RawLeadsDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Reads a lead export with every column as text, so validation sees cells as written.

    Handles a UTF-8 byte-order mark, Windows line endings and semicolon- or tab-separated
    files. Saving writes the export format: an unnamed leading index column, then the data.
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

    def _header_line(self) -> str:
        with self._filepath.open(encoding="utf-8-sig", errors="replace", newline="") as f:
            return f.readline()

    def load(self) -> pd.DataFrame:
        if not self._filepath.is_file():
            raise DatasetError(f"Lead export '{self._filepath}' does not exist.")
        header = self._header_line()
        if not header.strip():
            raise DatasetError(f"Lead export '{self._filepath}' is empty: it has no header row.")
        read_args = {
            "sep": sniff_delimiter(header),
            "dtype": str,
            "encoding": "utf-8-sig",
            "encoding_errors": "replace",
            "skipinitialspace": False,
            "quoting": csv.QUOTE_MINIMAL,
            **self._load_args,
        }
        try:
            return pd.read_csv(self._filepath, engine="pyarrow", **read_args)
        except Exception:
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
