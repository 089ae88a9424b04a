"""One run at a time writes a store: the run lock, held from the start of a run to its end."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

from lead_scoring.store.lock import StoreLock

logger = logging.getLogger(__name__)


def _store_datasets(pipeline, catalog) -> dict[str, Any]:
    """The pipeline's lead store datasets, one per store URL."""
    from lead_scoring.datasets.lead_store import LeadStoreDataset

    found: dict[str, Any] = {}
    for name in sorted(pipeline.datasets()):
        try:
            dataset = catalog.get(name)
        except Exception:  # a parameter or a dataset the catalog makes on demand
            continue
        if isinstance(dataset, LeadStoreDataset):
            found.setdefault(dataset.url, dataset)
    return found


class StoreLockHook:
    """Holds the lock of every lead store a run uses, before its first node and until its end.

    A second run on the same store waits ``lock_timeout``, then stops with ``StoreBusyError``.
    """

    def __init__(self) -> None:
        self._locks: list[StoreLock] = []

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        try:
            for dataset in _store_datasets(pipeline, catalog).values():
                lock = dataset.store.lock
                if not lock.held:
                    logger.debug("Waiting for the lead store at %s.", lock.describe)
                lock.acquire(dataset.lock_timeout)
                self._locks.append(lock)
        except BaseException:
            # Kedro calls no error hook for a failure here: release what this run took.
            self._release()
            raise

    def _release(self) -> None:
        while self._locks:
            self._locks.pop().release()

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog):
        self._release()
