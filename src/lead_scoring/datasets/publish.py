"""The one way a file is staged and published: readers see the old file or the new one, never half.

A writer works in a hidden sibling of its target, ``.<name>.<random>.partial`` (a file, or a
folder for outputs built from several files), and renames the result over the target in one step.
It holds a ``flock`` on the sibling while it lives; the kernel drops the lock with the process,
even on ``kill -9``, so the next writer of the same target deletes the siblings nobody holds and
leaves a live writer's alone.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

logger = logging.getLogger(__name__)

SUFFIX = ".partial"


@runtime_checkable
class Publishable(Protocol):
    """An output written during a run and published when it ends: ``StreamedOutputsHook`` commits
    it after a successful run and discards it after a failed one."""

    def commit(self) -> None: ...

    def discard(self) -> None: ...


def _lock_free(path: Path) -> int | None:
    """A descriptor of ``path`` holding its exclusive lock, or None when a live writer holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # already gone: another clean-up took it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale(target: Path) -> list[Path]:
    """Delete the hidden siblings of ``target`` that no live writer holds; return them."""
    removed = []
    for sibling in target.parent.glob(f".{glob.escape(target.name)}.*"):
        fd = _lock_free(sibling)
        if fd is None:
            continue
        _remove(sibling)
        os.close(fd)
        removed.append(sibling)
    if removed:
        logger.warning(
            "Removed %d staged file(s) of %s left by an interrupted run.", len(removed), target.name
        )
    return removed


class Staged:
    """A new hidden ``.partial`` sibling of ``target``, locked by this process until it is
    published or discarded; the siblings killed writers left are removed first."""

    def __init__(self, target: Path, *, folder: bool = False) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target)
        umask = os.umask(0)
        os.umask(umask)
        prefix = f".{target.name}."
        while True:
            if folder:
                path = Path(tempfile.mkdtemp(prefix=prefix, suffix=SUFFIX, dir=target.parent))
            else:
                made, name = tempfile.mkstemp(prefix=prefix, suffix=SUFFIX, dir=target.parent)
                os.close(made)
                path = Path(name)
            # Locked through a new descriptor, and kept only if it is still linked: another
            # writer's clean-up may find it before it is locked, and delete it or hold it.
            fd = _lock_free(path)
            if fd is not None and os.fstat(fd).st_nlink:
                break
            if fd is not None:
                os.close(fd)
        if not folder:
            os.chmod(path, 0o666 & ~umask)  # mkstemp makes private files; outputs are not
        self.path = path
        self._fd: int | None = fd  # None once published or discarded

    def publish(self, staged: Path | None = None) -> None:
        """Rename ``staged`` (by default the sibling itself) over the target, in one step."""
        os.replace(staged or self.path, self.target)
        self.discard()

    def discard(self) -> None:
        """Remove what is left of the sibling and free its lock."""
        if self._fd is not None:
            _remove(self.path)
            os.close(self._fd)
            self._fd = None


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through ``write(staged_path)`` to a staged sibling, then publish it over ``path``."""
    staged = Staged(path)
    try:
        write(staged.path)
        staged.publish()
    finally:
        staged.discard()
