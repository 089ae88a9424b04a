"""A CSV dataset whose saves are atomic: readers see the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset


def hidden_sibling(path: Path, suffix: str) -> Path:
    """A new empty hidden file beside ``path``, with the permissions of any file the user writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    # mkstemp creates private files; outputs must not be.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    return Path(name)


def write_atomically(path: Path, write: Any) -> None:
    """Write through ``write(tmp_path)`` to a temporary sibling, then rename over ``path``."""
    tmp = hidden_sibling(path, ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class AtomicCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Loads and saves a pandas DataFrame as CSV, replacing the file atomically on save."""

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._load_args = load_args or {}
        self._save_args = {"index": False, **(save_args or {})}
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return pd.read_csv(self._filepath, **self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        write_atomically(self._filepath, lambda tmp: data.to_csv(tmp, **self._save_args))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "save_args": self._save_args}
