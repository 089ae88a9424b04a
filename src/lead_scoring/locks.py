"""The run lock the MLflow run hook holds (``tracking_store``).

``flock`` locks belong to the open file and the process: the kernel drops them when the process
dies, even by ``kill -9``, so a lock found free means its holder is gone. Files the datasets
stage and publish use the same rule through ``datasets/publish.py``.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO


def try_exclusive_lock(path: Path) -> IO | None:
    """``path`` opened with its exclusive lock held, or None when another process holds it."""
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle
