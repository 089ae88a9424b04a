"""File locks that runs of the project take on shared files.

``flock`` locks belong to the open file and the process: the kernel drops them when the process
dies, even by ``kill -9``, so a lock found free means its holder is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kedro.io import DatasetError


def try_exclusive_lock(path: Path) -> IO | None:
    """``path`` opened with its exclusive lock held, or None when another process holds it."""
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path``, waiting at most ``timeout`` seconds."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # The lock file is never deleted: removing it would let two writers lock different inodes.
    with lock_path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatasetError(
                        f"Timed out after {timeout:g}s waiting for the lock on '{lock_path}'; "
                        "another run is writing the history. Retry, or remove a stale writer."
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
