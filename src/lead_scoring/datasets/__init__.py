"""The project's Kedro datasets.

Which dataset when:

====================  ==========================================================================
Dataset               Use it for
====================  ==========================================================================
RawLeadsDataset       A lead export as marketing tools send it (any encoding, delimiter, gzip or
                      zip), every cell as text; ``chunked: true`` reads it a chunk at a time.
AtomicCSVDataset      A whole table saved at once (``pandas.CSVDataset``, atomic replace).
AtomicJSONDataset     A whole JSON report saved at once (``json.JSONDataset``, atomic replace).
StreamedCSVDataset    A CSV a node yields chunk by chunk, published when the run succeeds.
CallListDataset       The call list: streamed like the above, published sorted by score.
ScoredChunksDataset   The scored chunks the nodes after batch scoring read back, a run's scratch.
DriftHistoryDataset   The drift history: concurrent runs append rows, none is lost.
CatBoostModelDataset  A fitted CatBoost model in its own ``.cbm`` format (never unpickled).
ReportFigureDataset   A matplotlib plot saved as PNG that loads back as bytes for the report.
LandingDataset        The landing folder's exports, listed for ingest.
LeadStoreDataset      The lead store (``lead_scoring.store``), exposed to the catalog.
====================  ==========================================================================

Every file a dataset writes is staged and published one way (``publish.py``); the streamed ones
are ``Publishable``, committed or discarded by ``StreamedOutputsHook`` when the run ends.

Each dataset is imported when first named (PEP 562), with the libraries it needs: the registered
model carries and loads only the datasets it uses, not the store's SQLAlchemy or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

# Dataset -> the module of this package that defines it.
_MODULES = {
    "AtomicCSVDataset": "atomic_datasets",
    "AtomicJSONDataset": "atomic_datasets",
    "CallListDataset": "streamed_csv_dataset",
    "CatBoostModelDataset": "catboost_model_dataset",
    "ChunkedLeads": "raw_leads_dataset",
    "DriftHistoryDataset": "drift_history_dataset",
    "LabelChangesDataset": "lead_store",
    "LandingDataset": "landing_dataset",
    "LeadExport": "raw_leads_dataset",
    "LeadStore": "lead_store",
    "LeadStoreDataset": "lead_store",
    "Publishable": "publish",
    "RawLeadsDataset": "raw_leads_dataset",
    "ReportFigureDataset": "report_figure_dataset",
    "ScoredChunksDataset": "scored_chunks_dataset",
    "StreamedCSVDataset": "streamed_csv_dataset",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
