"""Small, hand-checkable holdout predictions for the reporting nodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.pipelines.scoring.nodes import assign_tiers

TIER_CUTS = {
    "cold_below": 0.3,
    "hot_from": 0.7,
    "cold_completer_recall": 0.95,
    "hot_precision": 0.85,
}


@pytest.fixture
def tier_cuts() -> dict:
    return dict(TIER_CUTS)


@pytest.fixture
def holdout_predictions() -> pd.DataFrame:
    """5,000 leads whose label is drawn from their own probability: a calibrated, useful model."""
    rng = np.random.default_rng(3)
    n = 5_000
    probability = rng.uniform(0.01, 0.99, n)
    label = (rng.uniform(size=n) < probability).astype("int8")
    baseline = np.clip(probability + rng.normal(0, 0.25, n), 0.001, 0.999)
    return pd.DataFrame(
        {
            "lead_id": [str(i) for i in range(n)],
            "created_date": pd.date_range("2022-01-01", periods=n, freq="15min"),
            "app_complete_flag": label,
            "probability": probability,
            "baseline_probability": baseline,
            "tier": assign_tiers(probability, TIER_CUTS),
        }
    )


@pytest.fixture
def holdout_metrics() -> dict:
    names = ["roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "precision", "recall", "f1"]
    values = [0.8123, 0.8345, 0.51, 0.1789, 0.73, 0.74, 0.77, 0.755]
    metrics = dict(zip(names, values, strict=True))
    return {**metrics, **{f"baseline_{k}": v - 0.03 for k, v in metrics.items()}}


@pytest.fixture
def reporting_params(parameters) -> dict:
    return parameters["reporting"]
