"""Kedro datasets over the lead store (``lead_scoring.store``), and the stored leads due for
scoring (``DueLeads``), read as an export is read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError

from lead_scoring.contract import INDEX_COLUMN, LEAD_ID
from lead_scoring.datasets.raw_leads_dataset import REJECTED_COLUMNS, ExportChunk
from lead_scoring.store import LeadFile, LeadStore, ScoreBatch
from lead_scoring.store.repository import describe_url
from lead_scoring.store.tables import BOOKKEEPING_COLUMNS


class LeadStoreDataset(AbstractDataset[ScoreBatch | list[LeadFile], LeadStore]):
    """The lead store at a SQLAlchemy URL: loads as a ``LeadStore``; saves score batches.

    A run that uses it holds the store's lock (``StoreLockHook``), waiting at most
    ``lock_timeout`` seconds for another run. With ``auto_upgrade`` the first run of a new
    release upgrades the schema; without, an old schema stops the run in one line that names
    the command to run.
    """

    def __init__(
        self,
        *,
        url: str,
        lock_timeout: float = 600.0,
        auto_upgrade: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.lock_timeout = float(lock_timeout)
        self._auto_upgrade = auto_upgrade
        self.metadata = metadata
        self._store: LeadStore | None = None

    @property
    def store(self) -> LeadStore:
        """The store, opened on first use (``StoreLockHook`` takes its lock before the run)."""
        if self._store is None:
            self._store = LeadStore(
                self.url, upgrade=self._auto_upgrade, lock_timeout=self.lock_timeout
            )
        return self._store

    def load(self) -> LeadStore:
        return self.store

    def save(self, data: ScoreBatch | list[LeadFile]) -> None:
        store = self.store
        try:
            if isinstance(data, ScoreBatch):
                store.write_scores(data)
            else:
                for lead_file in data:
                    store.ingest_file(lead_file)
        # pandas' read_sql wraps the driver's refusal in its own DatabaseError.
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
            raise DatasetError(
                f"The lead store at {describe_url(self.url)} refused the write, so nothing of "
                f"it was stored: {str(error).splitlines()[0]}"
            ) from error

    def _exists(self) -> bool:
        return True

    def _describe(self) -> dict[str, Any]:
        return {"url": describe_url(self.url)}


class DueLeads:
    """Stored leads due for scoring (``leads``), read by ``read(rows)`` as an export is read.

    A chunk holds the export's fields with the lead id as pandas' index column, rows numbered
    by position among the due leads. A stored lead has no line in a file being read (the store
    keeps its source file), and the store holds no line a reader could reject.
    """

    def __init__(self, leads: pd.DataFrame) -> None:
        self.leads = leads

    def read(self, rows: int) -> Iterator[ExportChunk]:
        fields = [c for c in self.leads.columns if c not in (LEAD_ID, *BOOKKEEPING_COLUMNS)]
        export = self.leads[[LEAD_ID, *fields]].rename(columns={LEAD_ID: INDEX_COLUMN})
        export.index = pd.RangeIndex(len(export))
        for start in range(0, len(export), rows):
            chunk = export.iloc[start : start + rows]
            no_lines = np.full(len(chunk), pd.NA, dtype=object)
            yield ExportChunk(chunk, no_lines, pd.DataFrame(columns=REJECTED_COLUMNS))


class LabelChangesDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The store's label changes no training has reported; saving their ids marks them reported.

    Outside the store's run lock: a training reads and marks without waiting for ingest.
    """

    def __init__(self, *, url: str, metadata: dict[str, Any] | None = None) -> None:
        self._url = url
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return LeadStore(self._url).unreported_label_changes()

    def save(self, data: pd.DataFrame) -> None:
        if len(data):
            LeadStore(self._url).mark_reported(data["change_id"].tolist())

    def _describe(self) -> dict[str, Any]:
        return {"url": describe_url(self._url)}
