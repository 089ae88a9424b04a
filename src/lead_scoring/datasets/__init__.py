"""Custom Kedro datasets: raw exports, CatBoost models, atomic CSVs, drift history, report figures.

Each dataset is imported when first named (PEP 562), with the libraries it needs: the registered
model carries and loads only the datasets it uses, not the store's SQLAlchemy or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

# Dataset -> the module of this package that defines it.
_MODULES = {
    "AtomicCSVDataset": "atomic_csv_dataset",
    "AtomicJSONDataset": "atomic_json_dataset",
    "CallListDataset": "call_list_dataset",
    "CatBoostModelDataset": "catboost_model_dataset",
    "ChunkedLeads": "lead_export_dataset",
    "DriftHistoryDataset": "drift_history_dataset",
    "LabelChangesDataset": "lead_store",
    "LandingDataset": "landing_dataset",
    "LeadExport": "lead_export_dataset",
    "LeadExportDataset": "lead_export_dataset",
    "LeadStore": "lead_store",
    "LeadStoreDataset": "lead_store",
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
