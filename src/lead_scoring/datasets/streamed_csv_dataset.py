"""A CSV written chunk by chunk during a run and published whole, atomically, when it ends."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset


class StreamedCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Each ``save`` appends a chunk to a hidden sibling file; ``commit`` puts it in place.

    Readers see the previous file until the run that writes the new one succeeds: the project's
    ``StreamedOutputsHook`` commits after a successful run and discards after a failed one.
    """

    def __init__(
        self,
        *,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._save_args = {"index": False, **(save_args or {})}
        self._load_args = load_args or {}
        self._partial: Path | None = None
        self.metadata = metadata

    def save(self, data: pd.DataFrame) -> None:
        if self._partial is None:
            self._filepath.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                prefix=f".{self._filepath.name}.", suffix=".partial", dir=self._filepath.parent
            )
            os.close(fd)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(name, 0o666 & ~umask)
            self._partial = Path(name)
            data.to_csv(self._partial, mode="w", header=True, **self._save_args)
        else:
            data.to_csv(self._partial, mode="a", header=False, **self._save_args)

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
        return {"filepath": str(self._filepath), "save_args": self._save_args}
