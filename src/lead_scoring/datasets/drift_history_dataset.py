"""An append-only CSV history that concurrent runs can write to without losing rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.datasets.publish import write_atomically


class DriftHistoryDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Loads the whole history; each save appends its rows to the CSV.

    Writers take ``filelock``'s lock on a hidden ``.lock`` sibling, copy the current file and the
    new rows to a staged file and publish it over the history (``publish.write_atomically``):
    concurrent runs never lose rows, and readers see the history before or after an append, never
    half of one. The lock file stays: removing it would let two writers lock different files.
    """

    def __init__(
        self,
        *,
        filepath: str,
        lock_timeout: float = 60.0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._lock_path = self._filepath.with_name(f".{self._filepath.name}.lock")
        self._lock_timeout = lock_timeout
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        if not self._filepath.exists():
            raise DatasetError(f"No drift history at '{self._filepath}' yet.")
        return pd.read_csv(self._filepath)

    def save(self, data: pd.DataFrame) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(self._lock_path, timeout=self._lock_timeout):
                self._append(data)
        except Timeout:
            raise DatasetError(
                f"Timed out after {self._lock_timeout:g}s waiting for the lock on "
                f"'{self._lock_path}': another run is writing the drift history. Retry, or stop "
                "the stale writer."
            ) from None

    def _append(self, data: pd.DataFrame) -> None:
        # The lock file matches the staged siblings' pattern, but it is held while this runs, so
        # the clean-up of ``write_atomically`` leaves it.
        header = None
        if self._filepath.exists() and self._filepath.stat().st_size:
            with self._filepath.open(newline="", encoding="utf-8") as history:
                header = next(csv.reader(history))
        if header is not None:
            if set(header) != set(data.columns):
                raise DatasetError(
                    f"Cannot append columns {list(data.columns)} to the drift history "
                    f"'{self._filepath}', whose columns are {header}. Move the old file aside."
                )
            data = data[header]
        rows = io.StringIO()
        data.to_csv(rows, index=False, header=header is None)
        # The old rows are copied byte for byte: re-reading them through pandas could reformat.
        old = self._filepath.read_bytes() if self._filepath.exists() else b""
        if old and not old.endswith((b"\n", b"\r")):
            old += b"\n"
        write_atomically(
            self._filepath, lambda staged: staged.write_bytes(old + rows.getvalue().encode())
        )

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "lock_timeout": self._lock_timeout}
