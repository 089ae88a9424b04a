"""The lead store: the tables, the repository, the run lock and the schema migrations.

``LeadStore`` is the repository the pipelines use; ``lead_scoring.datasets.LeadStoreDataset``
is the thin Kedro dataset over it.
"""

from lead_scoring.store.errors import SchemaOutOfDateError, StoreBusyError, StoreUnavailableError
from lead_scoring.store.repository import LeadFile, LeadStore, ScoreBatch, content_hashes, now_utc

__all__ = [
    "LeadFile",
    "LeadStore",
    "SchemaOutOfDateError",
    "ScoreBatch",
    "StoreBusyError",
    "StoreUnavailableError",
    "content_hashes",
    "now_utc",
]
