"""A train run in process on a small generated export, shared by pipeline-level tests."""

from __future__ import annotations

import copy
from functools import reduce

import mlflow
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lead_scoring.pipeline_registry import bound_to_model, create_learning_pipeline
from tests.conftest import PROJECT_ROOT, generate_export


def project_level_labels():
    """The project's level labels file, read as the catalog reads it."""
    import pandas as pd

    return pd.read_csv(
        PROJECT_ROOT / "data" / "01_raw" / "reference" / "level_labels.csv",
        dtype=str,
        keep_default_na=False,
    )


class KeptDataset(MemoryDataset):
    """A memory dataset the runner cannot release, so tests can read intermediate results."""

    def _release(self) -> None:
        pass


def parameter(parameters: dict, name: str):
    """The value of ``params:a.b`` in Kedro's parameters."""
    return reduce(
        lambda value, key: value[key], name.removeprefix("params:").split("."), parameters
    )


def run_in_process(pipeline, parameters: dict, inputs: dict) -> DataCatalog:
    """Run ``pipeline`` on memory datasets; every dataset stays readable afterwards."""
    datasets = {name: KeptDataset(copy_mode="assign") for name in pipeline.datasets()}
    catalog = DataCatalog(datasets)
    for name in pipeline.inputs():
        value = inputs[name] if name in inputs else parameter(parameters, name)
        catalog[name] = KeptDataset(value, copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return catalog


@pytest.fixture(scope="session")
def fast_parameters(parameters) -> dict:
    """The project's parameters with a smaller CatBoost, for quick in-process training."""
    fast = copy.deepcopy(parameters)
    fast["training"]["catboost"].update(
        iterations=300, learning_rate=0.15, early_stopping_rounds=50
    )
    fast["training"]["backtest"].update(months=2, min_fold_leads=100)
    fast["feature_engineering"]["min_level_count"] = 20
    return fast


@pytest.fixture(scope="session")
def learned(fast_parameters, city_tiers, interaction_mapping, tmp_path_factory) -> DataCatalog:
    """Every dataset of a train pipeline run on an 8,000-lead generated export."""
    from lead_scoring.datasets import RawLeadsDataset

    path = tmp_path_factory.mktemp("learned") / "leads.csv"
    RawLeadsDataset(filepath=str(path)).save(
        generate_export(fast_parameters, city_tiers, interaction_mapping, n_leads=8_000, seed=11)
    )
    inputs = {
        "raw_leads": RawLeadsDataset(filepath=str(path)).load(),
        "city_tiers": city_tiers,
        "interaction_mapping": interaction_mapping,
        "level_labels": project_level_labels(),
    }
    # An empty registry of its own: the run looks for a champion to compare with.
    mlflow.set_tracking_uri(f"sqlite:///{path.parent / 'mlflow.db'}")
    try:
        return run_in_process(bound_to_model(create_learning_pipeline()), fast_parameters, inputs)
    finally:
        mlflow.set_tracking_uri(None)
