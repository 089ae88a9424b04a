"""A CSV written chunk by chunk during a run and published whole, atomically, when it ends."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from kedro.io import AbstractDataset

from lead_scoring.datasets.atomic_csv_dataset import locked_sibling, remove_unheld_siblings
from lead_scoring.datasets.spreadsheet_cells import neutralise_formulas

logger = logging.getLogger(__name__)


class StreamedCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Each ``save`` appends a chunk to a hidden sibling file; ``commit`` puts it in place.

    Readers see the previous file until the run that writes the new one succeeds: the project's
    ``StreamedOutputsHook`` commits after a successful run and discards after a failed one.

    A run killed with ``kill -9`` can neither: its partial file stays. The writer holds a
    ``flock`` on its partial file while it lives, so the next run removes the partial files
    nobody holds, and leaves a concurrent live run's alone.

    ``neutralise_formulas: true`` (for a file a person opens in a spreadsheet) quotes every text
    cell a spreadsheet would run as a formula: see ``spreadsheet_cells``.
    """

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        neutralise_formulas: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._load_args = load_args or {}
        self._neutralise_formulas = neutralise_formulas
        self._partial: Path | None = None
        self._lock: IO | None = None
        self.metadata = metadata

    def remove_stale_partials(self) -> list[Path]:
        """Delete the partial files of this output that no live writer holds; return them."""
        removed = remove_unheld_siblings(self._filepath, ".partial", keep=self._partial)
        if removed:
            logger.warning(
                "Removed %d partial file(s) of %s left by an interrupted run.",
                len(removed),
                self._filepath.name,
            )
        return removed

    def _start(self) -> Path:
        """A new partial file of this output, locked by this process."""
        self.remove_stale_partials()
        self._partial, self._lock = locked_sibling(self._filepath, ".partial")
        return self._partial

    def spreadsheet_safe(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` as this file writes it: formulas quoted as text when the file asks for it."""
        return neutralise_formulas(data) if self._neutralise_formulas else data

    def save(self, data: pd.DataFrame) -> None:
        data = self.spreadsheet_safe(data)
        first = self._partial is None
        partial = self._partial or self._start()
        # Arrow's writer is several times faster than pandas' on a million scored leads.
        table = pa.Table.from_pandas(data, preserve_index=False)
        with partial.open("wb" if first else "ab") as file:
            pacsv.write_csv(table, file, write_options=pacsv.WriteOptions(include_header=first))

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def commit(self) -> None:
        """Publish what this run wrote, replacing the previous file in one step."""
        if self._partial is not None:
            os.replace(self._partial, self._filepath)
            self._partial = None
        self._unlock()

    def discard(self) -> None:
        """Drop what a failed run wrote; the previous file stays."""
        if self._partial is not None:
            self._partial.unlink(missing_ok=True)
            self._partial = None
        self._unlock()

    def load(self) -> pd.DataFrame:
        return pd.read_csv(self._filepath, **self._load_args)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "neutralise_formulas": self._neutralise_formulas,
        }
