"""A run's hidden working folder beside an output, and the clean-up of killed runs' folders."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO

from lead_scoring.locks import try_exclusive_lock

logger = logging.getLogger(__name__)

_LOCK = ".lock"
# A working folder without its lock file yet is another run's first instant, unless it is old.
_UNLOCKED_GRACE_SECONDS = 3600


def open_working_folder(target: Path) -> tuple[Path, IO]:
    """A new hidden folder beside ``target``, locked while this run lives; stale ones removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    # Held while this run lives; the kernel frees it if the run is killed. Locked before it takes
    # its name, so another run's clean-up never finds the lock file free while this run lives.
    fd, name = tempfile.mkstemp(dir=folder)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(name, folder / _LOCK)
    remove_stale_working_folders(target, keep=folder)
    return folder, os.fdopen(fd, "ab")


def remove_stale_working_folders(target: Path, keep: Path | None = None) -> list[Path]:
    """Delete the working folders of ``target`` left by killed runs (their lock is free)."""
    removed = []
    for folder in target.parent.glob(f".{target.name}.*"):
        if not folder.is_dir() or folder == keep:
            continue
        lock = folder / _LOCK
        try:
            if lock.exists():
                handle = try_exclusive_lock(lock)
                if handle is None:
                    continue  # a live run's folder
                handle.close()
            elif time.time() - folder.stat().st_mtime < _UNLOCKED_GRACE_SECONDS:
                continue
        except FileNotFoundError:
            continue  # another run's clean-up removed it first
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    if removed:
        logger.warning(
            "Removed %d working folder(s) of %s left by an interrupted run.",
            len(removed),
            target.name,
        )
    return removed


def close_working_folder(folder: Path | None, held: IO | None) -> None:
    """Remove this run's folder and free its lock."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    if held is not None:
        held.close()
