"""Atomic writes: readers see the old file or the new one, never half.

A file is written to a hidden sibling under a ``flock``, then renamed over the target. A writer
killed mid-write leaves its hidden sibling; the kernel drops the lock with the process, so the
next write of the same file deletes the siblings nobody holds and leaves a live writer's alone.
"""

from __future__ import annotations

import csv
import fcntl
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd
from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.pandas import CSVDataset

from lead_scoring.datasets.spreadsheet_cells import neutralise_formulas
from lead_scoring.locks import try_exclusive_lock

logger = logging.getLogger(__name__)


def locked_sibling(path: Path, suffix: str) -> tuple[Path, IO]:
    """A new hidden sibling of ``path`` and the open handle that holds its exclusive lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    while True:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        handle = os.fdopen(fd, "r+b")
        # Through the descriptor, never the name: another writer's clean-up may find the new file
        # before it is locked, and delete it (link count 0) or hold it to delete: make another.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        if os.fstat(fd).st_nlink:
            # mkstemp creates private files; outputs must not be.
            os.fchmod(fd, 0o666 & ~umask)
            return Path(name), handle
        handle.close()


def remove_unheld_siblings(path: Path, suffix: str, keep: Path | None = None) -> list[Path]:
    """Delete the hidden ``suffix`` siblings of ``path`` that no live writer holds; return them."""
    removed = []
    for sibling in path.parent.glob(f".{path.name}.*{suffix}"):
        if sibling == keep:
            continue
        handle = try_exclusive_lock(sibling)
        if handle is None:
            continue  # a live writer's
        sibling.unlink(missing_ok=True)
        handle.close()
        removed.append(sibling)
    return removed


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through ``write(tmp_path)`` to a locked hidden sibling, then rename over ``path``."""
    stale = remove_unheld_siblings(path, ".tmp")
    if stale:
        logger.warning(
            "Removed %d temporary file(s) of %s left by an interrupted write.",
            len(stale),
            path.name,
        )
    tmp, lock = locked_sibling(path, ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        lock.close()


def save_atomically(dataset: Any, plain: str, dump: Callable[[IO], object]) -> None:
    """Save a kedro-datasets file dataset through ``write_atomically``.

    ``dump(file)`` writes the data as the dataset's own ``save`` would, into a file opened with the
    dataset's path, filesystem and open arguments. Local files only: a rename is atomic within
    one filesystem, not across an object store, where ``plain`` (the dataset it extends) belongs.
    """
    if dataset._protocol != "file":
        raise DatasetError(
            f"{type(dataset).__name__} writes local files only, not '{dataset._protocol}' "
            f"paths: use {plain} for an object store."
        )
    save_path = Path(get_filepath_str(dataset._get_save_path(), dataset._protocol))

    def write(tmp: Path) -> None:
        with dataset._fs.open(str(tmp), **dataset._fs_open_args_save) as file:
            dump(file)

    write_atomically(save_path, write)
    dataset._invalidate_cache()


class AtomicCSVDataset(CSVDataset):
    """kedro-datasets' ``pandas.CSVDataset`` whose saves replace the file atomically.

    Arguments, loading, versioning and credentials are ``CSVDataset``'s; a save writes the CSV as
    it does, but to a locked hidden sibling renamed over the target (``write_atomically``). Local
    files only: a rename is atomic within one filesystem, not across an object store.

    ``neutralise_formulas: true`` (for a file a person opens in a spreadsheet) quotes every text
    cell a spreadsheet would run as a formula: see ``spreadsheet_cells``.
    """

    def __init__(self, *, neutralise_formulas: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._neutralise_formulas = neutralise_formulas
        if neutralise_formulas:
            # Every text cell in quotes, as OWASP advises: pandas leaves a cell holding a bare
            # carriage return unquoted, and a spreadsheet starts a new row, a formula, there.
            self._save_args.setdefault("quoting", csv.QUOTE_NONNUMERIC)

    def save(self, data: pd.DataFrame) -> None:
        if self._neutralise_formulas:
            data = neutralise_formulas(data)
        save_atomically(
            self, "pandas.CSVDataset", lambda file: data.to_csv(path_or_buf=file, **self._save_args)
        )
