"""Small, hand-checkable holdout predictions for the reporting nodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.pipelines.lead_model.nodes import assign_tiers, probability_to_score

TIER_CUTS = {
    "cold_below_score": 30,
    "hot_from_score": 70,
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
            "score": probability_to_score(probability),
            "tier": assign_tiers(probability_to_score(probability), TIER_CUTS),
        }
    )


@pytest.fixture
def holdout_metrics() -> dict:
    names = ["roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "precision", "recall", "f1"]
    values = [0.8123, 0.8345, 0.51, 0.1789, 0.73, 0.74, 0.77, 0.755]
    metrics = dict(zip(names, values, strict=True))
    promises = {
        "hot_precision": 0.8312,
        "hot_precision_target": 0.85,
        "cold_completers_lost": 0.0634,
        "cold_completers_lost_target": 0.05,
    }
    return {**metrics, **{f"baseline_{k}": v - 0.03 for k, v in metrics.items()}, **promises}


@pytest.fixture
def backtest_table() -> pd.DataFrame:
    """Two backtest months and one holdout month, as summarise_backtest writes them."""
    return pd.DataFrame(
        {
            "period": ["backtest", "backtest", "holdout"],
            "month": ["2021-11", "2021-12", "2022-01"],
            "leads": [1200, 1300, 1400],
            "completion_rate": [0.5, 0.52, 0.49],
            "mean_probability": [0.51, 0.5, 0.53],
            "roc_auc": [0.8011, 0.7922, 0.7833],
            "pr_auc": [0.81, 0.8, 0.79],
            "hot_precision": [0.86, 0.84, 0.83],
            "cold_completers_lost": [0.05, 0.055, 0.063],
        }
    )


@pytest.fixture
def registered_model() -> dict:
    return {
        "leads": 25_000,
        "trees": 312,
        "measured_trees": 210,
        "oldest_lead": "2021-07-01 00:10:00",
        "newest_lead": "2022-02-28 23:50:00",
        "recency_half_life_days": 60,
    }


@pytest.fixture
def reporting_params(parameters) -> dict:
    return parameters["reporting"]
