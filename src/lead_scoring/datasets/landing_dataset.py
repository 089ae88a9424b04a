"""The landing folder: the exports dropped there, listed for ingest to read one by one.

Which files were read is the store's record (``ingest_log``, by content hash), not the
folder's: a new store reads every file again, a renamed copy is not read twice, and a file
whose content changed is read again. Files still being written are left for the next run: a
writer writes under a hidden or temporary name (``.name``, ``*.part``, ``*.tmp``) and renames
when done; see ``is_being_written`` in the ingest pipeline for writers that do not.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.datasets.export_lines import GZIP_MAGIC

# Names a writer gives a file it has not finished; never read.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".download")


@dataclass(frozen=True)
class LandingFile:
    """One export in the landing folder, not read yet: its name, size and modification time."""

    name: str
    path: Path
    size: int
    modified: float
    dataset: Any

    def content_hash(self) -> str:
        """SHA-256 of the bytes: what the store remembers a read by."""
        with self.path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    def ends_mid_line(self) -> bool:
        """True when a text file's last line has no line end: a writer may still be at it."""
        if self.size == 0 or zipfile.is_zipfile(self.path):
            return False
        with self.path.open("rb") as handle:
            if handle.read(2) == GZIP_MAGIC:
                return False
            handle.seek(-1, 2)
            return handle.read(1) not in (b"\n", b"\r")

    def load(self) -> pd.DataFrame:
        config = self.dataset if isinstance(self.dataset, dict) else {"type": self.dataset}
        return AbstractDataset.from_config(self.name, {**config, "filepath": str(self.path)}).load()


def is_landing_export(relative: Path, suffixes: Sequence[str]) -> bool:
    """An export to read: a listed suffix in any case, no hidden or temporary name."""
    name = relative.name.lower()
    hidden = any(part.startswith((".", "~$")) for part in relative.parts)
    if hidden or name.endswith(TEMPORARY_SUFFIXES):
        return False
    return name.endswith(tuple(suffix.lower() for suffix in suffixes))


class LandingDataset(AbstractDataset[None, list[LandingFile]]):
    """The landing folder's exports, by name; each loads with ``dataset`` (read-only)."""

    def __init__(
        self,
        *,
        path: str,
        dataset: str | dict[str, Any],
        suffixes: Sequence[str] = (".csv", ".csv.gz", ".zip"),
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(path)
        self._dataset = dataset
        self._suffixes = tuple(suffixes)
        self.metadata = metadata

    def load(self) -> list[LandingFile]:
        if not self._path.is_dir():
            return []
        files = []
        for path in sorted(self._path.rglob("*")):
            relative = path.relative_to(self._path)
            if not path.is_file() or not is_landing_export(relative, self._suffixes):
                continue
            stat = path.stat()
            files.append(
                LandingFile(relative.as_posix(), path, stat.st_size, stat.st_mtime, self._dataset)
            )
        return files

    def save(self, data: None) -> None:
        raise DatasetError("The landing folder is read-only: exports are dropped there.")

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "suffixes": self._suffixes}
