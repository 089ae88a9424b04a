import numpy as np
import pandas as pd
import pytest

from lead_scoring.pipelines.training.nodes import (
    classification_metrics,
    evaluate_holdout,
    split_by_time,
    tier_cuts_from,
)


def test_the_holdout_is_the_latest_share_of_leads():
    leads = pd.DataFrame(
        {
            "created_date": pd.date_range("2021-07-01", periods=1000, freq="h")
            .to_series()
            .sample(frac=1, random_state=1)
            .to_numpy()
        }
    )
    fit, holdout = split_by_time(leads, {"holdout_share": 0.2})
    assert len(holdout) == 200 and len(fit) == 800
    assert fit["created_date"].max() < holdout["created_date"].min()


def test_tier_cuts_keep_the_completer_share_and_reach_the_precision():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 5000)
    probability = 0.3 * label + rng.random(5000) * 0.7
    cuts = tier_cuts_from(
        probability, label, {"cold_completer_recall": 0.95, "hot_precision": 0.85}
    )
    kept = (probability[label == 1] >= cuts["cold_below"]).mean()
    assert 0.95 <= kept < 0.96
    hot = probability >= cuts["hot_from"]
    assert label[hot].mean() >= 0.85
    # The lowest such cut: one step lower, precision falls under the target.
    below = np.sort(probability[probability < cuts["hot_from"]])[-1]
    assert label[probability >= below].mean() < 0.85
    assert cuts["hot_from"] >= cuts["cold_below"]


def test_metrics_rank_a_better_model_higher():
    rng = np.random.default_rng(1)
    label = rng.integers(0, 2, 4000)
    good = np.clip(0.35 * label + rng.random(4000) * 0.65, 0.001, 0.999)
    noise = rng.random(4000)
    assert classification_metrics(label, good, 0.5)["roc_auc"] > 0.8
    assert abs(classification_metrics(label, noise, 0.5)["roc_auc"] - 0.5) < 0.05


def test_evaluate_holdout_reports_tier_shares_and_lost_completers():
    frame = pd.DataFrame(
        {
            "app_complete_flag": [1, 1, 1, 1, 0, 0, 0, 0],
            "probability": [0.9, 0.8, 0.6, 0.2, 0.7, 0.3, 0.2, 0.1],
            "baseline_probability": [0.5] * 8,
            "tier": ["hot", "hot", "warm", "cold", "warm", "warm", "cold", "cold"],
        }
    )
    cuts = {"hot_precision": 0.85, "cold_completer_recall": 0.95}
    metrics, logged = evaluate_holdout(frame, cuts, {"operating_threshold": 0.5})
    assert metrics["hot_precision_target"] == 0.85
    assert metrics["cold_completers_lost_target"] == pytest.approx(0.05)
    assert metrics["share_cold"] == pytest.approx(3 / 8)
    assert metrics["cold_completers_lost"] == pytest.approx(1 / 4)
    assert metrics["hot_precision"] == 1.0
    assert metrics["roc_auc"] == pytest.approx(12.5 / 16)
    assert metrics["baseline_roc_auc"] == 0.5
    assert logged["roc_auc"]["value"] == metrics["roc_auc"]
