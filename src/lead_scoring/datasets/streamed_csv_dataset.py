"""A CSV written chunk by chunk during a run and published whole, atomically, when it ends."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from kedro.io import AbstractDataset

from lead_scoring.datasets.atomic_csv_dataset import hidden_sibling


class StreamedCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Each ``save`` appends a chunk to a hidden sibling file; ``commit`` puts it in place.

    Readers see the previous file until the run that writes the new one succeeds: the project's
    ``StreamedOutputsHook`` commits after a successful run and discards after a failed one.
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
        self._partial: Path | None = None
        self.metadata = metadata

    def save(self, data: pd.DataFrame) -> None:
        first = self._partial is None
        if first:
            self._partial = hidden_sibling(self._filepath, ".partial")
        # Arrow's writer is several times faster than pandas' on a million scored leads.
        table = pa.Table.from_pandas(data, preserve_index=False)
        with self._partial.open("wb" if first else "ab") as file:
            pacsv.write_csv(table, file, write_options=pacsv.WriteOptions(include_header=first))

    def commit(self) -> None:
        """Publish what this run wrote, replacing the previous file in one step."""
        if self._partial is not None:
            os.replace(self._partial, self._filepath)
            self._partial = None

    def discard(self) -> None:
        """Drop what a failed run wrote; the previous file stays."""
        if self._partial is not None:
            self._partial.unlink(missing_ok=True)
            self._partial = None

    def load(self) -> pd.DataFrame:
        return pd.read_csv(self._filepath, **self._load_args)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
