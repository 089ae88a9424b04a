import numpy as np
import pandas as pd
import pytest

from lead_scoring.pipelines.lead_model import (
    assign_tiers,
    calibrate_probabilities,
    probability_to_score,
)
from lead_scoring.pipelines.training.nodes import (
    classification_metrics,
    evaluate_holdout,
    fit_probability_calibration,
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


def test_tier_cuts_on_the_score_keep_the_completer_share_and_reach_the_precision():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 5000)
    probability = 0.3 * label + rng.random(5000) * 0.7
    cuts = tier_cuts_from(
        probability, label, {"cold_completer_recall": 0.95, "hot_precision": 0.85}
    )
    score = probability_to_score(probability)
    completers = score[label == 1]
    # Cold loses at most 5% of completers; one score higher it would lose more.
    assert (completers < cuts["cold_below_score"]).mean() <= 0.05
    assert (completers < cuts["cold_below_score"] + 1).mean() > 0.05
    hot = score >= cuts["hot_from_score"]
    assert label[hot].mean() >= 0.85
    # The lowest such score: from one score lower up, precision falls under the target.
    assert label[score >= cuts["hot_from_score"] - 1].mean() < 0.85
    assert 1 <= cuts["cold_below_score"] <= cuts["hot_from_score"] <= 99
    assert all(isinstance(cuts[key], int) for key in ("cold_below_score", "hot_from_score"))


def test_no_score_reaching_the_precision_makes_no_lead_hot():
    label = np.r_[np.ones(10), np.zeros(90)]  # the completers all score low
    cuts = tier_cuts_from(
        np.linspace(0.1, 0.9, 100), label, {"cold_completer_recall": 0.95, "hot_precision": 0.99}
    )
    assert cuts["hot_from_score"] == 100
    assert (assign_tiers(np.arange(1, 100), cuts) != "hot").all()


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
            "uncalibrated_probability": [0.95, 0.85, 0.7, 0.3, 0.8, 0.4, 0.3, 0.2],
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
    assert metrics["mean_probability"] == pytest.approx(3.8 / 8)
    assert metrics["mean_probability_uncalibrated"] == pytest.approx(4.5 / 8)


def _over_promising_backtest(rows: int = 4000, seed: int = 3) -> pd.DataFrame:
    """Predictions whose log-odds run 0.8 too high: what a model fitted before a downturn gives."""
    rng = np.random.default_rng(seed)
    log_odds = rng.normal(0.0, 1.5, rows)
    label = (rng.random(rows) < 1 / (1 + np.exp(-log_odds))).astype(int)
    return pd.DataFrame(
        {"app_complete_flag": label, "probability": 1 / (1 + np.exp(-(log_odds + 0.8)))}
    )


def test_calibration_takes_out_the_out_of_time_bias_and_keeps_the_order():
    backtest = _over_promising_backtest()
    calibration = fit_probability_calibration(backtest)
    assert calibration["method"] == "sigmoid"
    # The true map is log-odds - 0.8, slope 1: Platt scaling finds it back.
    assert calibration["slope"] == pytest.approx(1.0, abs=0.1)
    assert calibration["intercept"] == pytest.approx(-0.8, abs=0.1)
    probability = backtest["probability"].to_numpy()
    calibrated = calibrate_probabilities(probability, calibration)
    assert probability.mean() - backtest["app_complete_flag"].mean() > 0.1
    assert calibrated.mean() == pytest.approx(backtest["app_complete_flag"].mean(), abs=1e-3)
    order = np.argsort(probability)
    assert (np.diff(calibrated[order]) >= 0).all()


@pytest.mark.parametrize(
    "backtest",
    [
        pd.DataFrame({"app_complete_flag": [1, 1, 1], "probability": [0.2, 0.5, 0.9]}),
        # Predictions that rank completers lowest would flip the scale over.
        pd.DataFrame({"app_complete_flag": [1, 1, 0, 0], "probability": [0.1, 0.2, 0.8, 0.9]}),
    ],
)
def test_calibration_is_left_out_where_the_backtest_cannot_fit_one(backtest):
    calibration = fit_probability_calibration(backtest)
    assert (calibration["method"], calibration["slope"], calibration["intercept"]) == (
        "none",
        1.0,
        0.0,
    )
    probability = backtest["probability"].to_numpy()
    np.testing.assert_allclose(calibrate_probabilities(probability, calibration), probability)
