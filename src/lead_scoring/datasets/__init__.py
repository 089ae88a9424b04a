"""Custom Kedro datasets: raw exports, CatBoost models, atomic CSVs, drift history, report figures."""

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
