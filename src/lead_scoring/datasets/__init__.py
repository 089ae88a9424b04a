"""Custom Kedro datasets: raw lead exports, CatBoost models and atomic CSV outputs."""

from lead_scoring.datasets.atomic_csv_dataset import AtomicCSVDataset
from lead_scoring.datasets.catboost_model_dataset import CatBoostModelDataset
from lead_scoring.datasets.raw_leads_dataset import RawLeadsDataset

__all__ = ["AtomicCSVDataset", "CatBoostModelDataset", "RawLeadsDataset"]
