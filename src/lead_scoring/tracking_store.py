"""The local MLflow store: checked before a run starts, and cleared of runs a killed process left.

A run's process holds an exclusive ``flock`` on a lock file named after its MLflow run for as
long as it lives; the kernel drops the lock when the process dies, even by ``kill -9``. A later
run that finds another run still RUNNING with its lock free knows that run was abandoned, and
marks it FAILED; a run whose lock is held is alive and left alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from lead_scoring.errors import LeadScoringError
from lead_scoring.lazy_mlflow import active_run

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

RUN_LOCK_TAG = "lead_scoring.run_lock"


class TrackingStoreError(LeadScoringError):
    """The local MLflow store cannot be read or written."""


def sqlite_store_path(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` tracking URI, else None."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def check_local_store(uri: str) -> None:
    """Stop at once, in one line, when the local SQLite store is corrupted or read-only."""
    path = sqlite_store_path(uri)
    if path is None or not path.exists():
        return  # a remote server is checked by its health URL; a missing file is created
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as store:
            store.execute("SELECT count(*) FROM sqlite_master").fetchone()
            store.execute("PRAGMA quick_check(1)").fetchone()
        store.close()
    except sqlite3.DatabaseError as error:
        raise TrackingStoreError(
            f"The MLflow store {path} is not a readable SQLite database ({error}): it is "
            "corrupted. Restore it from a backup, or move it aside to start an empty store "
            "(its runs and registered models are then lost). Nothing was run."
        ) from error
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise TrackingStoreError(
            f"The MLflow store {path} is read-only: no run can be recorded in it. Make the "
            f"file and its folder writable (e.g. `chmod u+w {path.name}`), or set "
            "MLFLOW_TRACKING_URI to a writable store. Nothing was run."
        )


def try_exclusive_lock(path: Path) -> IO | None:
    """``path`` opened with its exclusive lock held, or None when another process holds it."""
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def fail_abandoned_runs(client: MlflowClient, experiment_id: str, current_run: str) -> list[str]:
    """Mark FAILED the RUNNING runs of the experiment whose process is gone; their ids."""
    abandoned = []
    running = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'")
    for run in running:
        lock = run.data.tags.get(RUN_LOCK_TAG)
        if run.info.run_id == current_run or not lock:
            continue  # a run of another tool, or of another machine: not ours to judge
        lock_path = Path(lock)
        if lock_path.exists():
            handle = try_exclusive_lock(lock_path)
            if handle is None:
                continue  # its process is alive and holds the lock
            lock_path.unlink(missing_ok=True)
            handle.close()
        client.set_terminated(run.info.run_id, status="FAILED")
        abandoned.append(run.info.run_id)
        logger.warning(
            "Marked MLflow run %s FAILED: it was left RUNNING by a process that ended without "
            "finishing (killed?).",
            run.info.run_id,
        )
    return abandoned


class RunLockHook:
    """Holds a lock for the active MLflow run, and fails runs that killed processes left."""

    def __init__(self) -> None:
        self._handle: IO | None = None
        self._path: Path | None = None

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        run = active_run()
        if run is None:
            return
        import mlflow  # a run of MLflow's: MLflow is imported already

        store = sqlite_store_path(mlflow.get_tracking_uri())
        if store is None:
            return
        directory = store.parent / ".mlflow_run_locks"
        directory.mkdir(exist_ok=True)
        self._path = directory / f"{run.info.run_id}.lock"
        self._handle = try_exclusive_lock(self._path)
        client = mlflow.MlflowClient()
        client.set_tag(run.info.run_id, RUN_LOCK_TAG, str(self._path))
        fail_abandoned_runs(client, run.info.experiment_id, run.info.run_id)

    def _release(self) -> None:
        if self._handle is not None and self._path is not None:
            self._path.unlink(missing_ok=True)
            self._handle.close()
        self._handle = self._path = None

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog):
        self._release()
