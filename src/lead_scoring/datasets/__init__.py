"""Custom Kedro datasets: raw exports, CatBoost models, atomic CSVs, drift history, report figures."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lead_scoring.datasets.atomic_csv_dataset import AtomicCSVDataset
    from lead_scoring.datasets.atomic_json_dataset import AtomicJSONDataset
    from lead_scoring.datasets.call_list_dataset import CallListDataset
    from lead_scoring.datasets.catboost_model_dataset import CatBoostModelDataset
    from lead_scoring.datasets.drift_history_dataset import DriftHistoryDataset
    from lead_scoring.datasets.landing_dataset import LandingDataset
    from lead_scoring.datasets.lead_export_dataset import (
        ChunkedLeads,
        LeadExport,
        LeadExportDataset,
    )
    from lead_scoring.datasets.lead_store import LabelChangesDataset, LeadStore, LeadStoreDataset
    from lead_scoring.datasets.raw_leads_dataset import RawLeadsDataset
    from lead_scoring.datasets.report_figure_dataset import ReportFigureDataset
    from lead_scoring.datasets.scored_chunks_dataset import ScoredChunksDataset
    from lead_scoring.datasets.streamed_csv_dataset import StreamedCSVDataset

# Each class is imported from its module when first asked for (Kedro's catalog asks by name):
# CatBoost's and matplotlib's datasets alone cost 1.5 s of a run that uses neither.
_MODULES = {
    "AtomicCSVDataset": "atomic_csv_dataset",
    "AtomicJSONDataset": "atomic_json_dataset",
    "CallListDataset": "call_list_dataset",
    "CatBoostModelDataset": "catboost_model_dataset",
    "DriftHistoryDataset": "drift_history_dataset",
    "LandingDataset": "landing_dataset",
    "ChunkedLeads": "lead_export_dataset",
    "LeadExport": "lead_export_dataset",
    "LeadExportDataset": "lead_export_dataset",
    "LabelChangesDataset": "lead_store",
    "LeadStore": "lead_store",
    "LeadStoreDataset": "lead_store",
    "RawLeadsDataset": "raw_leads_dataset",
    "ReportFigureDataset": "report_figure_dataset",
    "ScoredChunksDataset": "scored_chunks_dataset",
    "StreamedCSVDataset": "streamed_csv_dataset",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(import_module(f"lead_scoring.datasets.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AtomicCSVDataset",
    "AtomicJSONDataset",
    "CallListDataset",
    "CatBoostModelDataset",
    "DriftHistoryDataset",
    "LabelChangesDataset",
    "LandingDataset",
    "ChunkedLeads",
    "LeadExport",
    "LeadExportDataset",
    "LeadStore",
    "LeadStoreDataset",
    "RawLeadsDataset",
    "ReportFigureDataset",
    "ScoredChunksDataset",
    "StreamedCSVDataset",
]
