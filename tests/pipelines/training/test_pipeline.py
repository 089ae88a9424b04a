"""The whole train pipeline in process: splits, model, cuts and metrics hang together."""

import numpy as np
import pytest

from lead_scoring.pipeline_registry import create_scoring_core
from lead_scoring.pipelines.feature_engineering.nodes import feature_columns
from lead_scoring.pipelines.lead_model.nodes import calibrate_probabilities, predict_probabilities
from lead_scoring.pipelines.training.nodes import tier_cuts_from
from tests.pipelines.conftest import run_in_process


def test_holdout_is_later_than_every_fitting_lead(learned):
    fit, holdout = learned.load("fit_leads"), learned.load("holdout_leads")
    assert fit["created_date"].max() <= holdout["created_date"].min()
    assert len(holdout) / (len(fit) + len(holdout)) == pytest.approx(0.2, abs=0.01)


def test_measuring_vocabulary_comes_from_fitting_rows_and_the_registered_one_from_all(
    learned, fast_parameters
):
    minimum = fast_parameters["feature_engineering"]["min_level_count"]
    for leads, vocabulary in (
        ("fit_leads", "measurement_vocabulary"),
        ("clean_leads", "category_vocabulary"),
    ):
        counts = learned.load(leads)["first_platform_c"].value_counts()
        assert set(learned.load(vocabulary)["first_platform_c"]) == set(
            counts[counts >= minimum].index
        )


def test_the_registered_model_is_refit_on_every_labelled_lead(learned):
    labelled = learned.load("clean_leads")
    summary = learned.load("registered_model_summary")
    assert summary["leads"] == len(labelled) == len(learned.load("model_input_labelled"))
    assert summary["newest_lead"] == str(labelled["created_date"].max())
    measured = learned.load("measured_model")
    train = learned.load("model_input_train")
    assert summary["trees"] == round(measured.tree_count_ * len(labelled) / len(train))
    assert learned.load("lead_scoring_model").tree_count_ == summary["trees"] > measured.tree_count_


def test_tier_cuts_come_from_out_of_time_backtest_months(learned, fast_parameters):
    backtest = learned.load("backtest_predictions")
    fit = learned.load("fit_leads")
    months = sorted(fit["created_date"].dt.to_period("M").astype(str).unique())
    assert (
        sorted(backtest["month"].unique())
        == months[-fast_parameters["training"]["backtest"]["months"] :]
    )
    assert backtest["created_date"].max() <= learned.load("holdout_leads")["created_date"].min()
    expected = tier_cuts_from(
        calibrate_probabilities(
            backtest["probability"].to_numpy(), learned.load("probability_calibration")
        ),
        backtest["app_complete_flag"].to_numpy(),
        fast_parameters["tiers"],
    )
    assert learned.load("tier_cuts") == expected


def test_probabilities_are_calibrated_out_of_time_without_changing_the_ranking(learned):
    calibration = learned.load("probability_calibration")
    backtest = learned.load("backtest_predictions")
    assert calibration["method"] == "sigmoid"
    assert calibration["slope"] > 0
    assert calibration["leads"] == len(backtest)
    # Fitted on the backtest, the calibrated mean matches the backtest's completion rate.
    calibrated = calibrate_probabilities(backtest["probability"].to_numpy(), calibration)
    assert calibrated.mean() == pytest.approx(backtest["app_complete_flag"].mean(), abs=1e-3)
    holdout = learned.load("holdout_predictions")
    assert (
        holdout["probability"].rank().to_numpy()
        == holdout["uncalibrated_probability"].rank().to_numpy()
    ).all()
    metrics = learned.load("holdout_metrics")
    assert metrics["mean_probability"] == pytest.approx(holdout["probability"].mean())
    assert metrics["mean_probability_uncalibrated"] == pytest.approx(
        holdout["uncalibrated_probability"].mean()
    )


def test_the_holdout_reports_realised_tier_promises_next_to_their_targets(learned):
    metrics = learned.load("holdout_metrics")
    assert metrics["hot_precision_target"] == 0.85
    assert metrics["cold_completers_lost_target"] == pytest.approx(0.05)
    holdout = learned.load("holdout_predictions")
    hot = holdout["tier"] == "hot"
    assert metrics["hot_precision"] == pytest.approx(holdout.loc[hot, "app_complete_flag"].mean())


def test_the_backtest_table_has_every_month_with_its_metrics(learned):
    table = learned.load("backtest_table")
    backtest_months = sorted(learned.load("backtest_predictions")["month"].unique())
    assert table.loc[table["period"] == "backtest", "month"].tolist() == backtest_months
    assert (table["period"] == "holdout").any()
    assert table[["roc_auc", "pr_auc", "hot_precision", "cold_completers_lost"]].notna().all().all()
    assert table["leads"].sum() == len(learned.load("backtest_predictions")) + len(
        learned.load("holdout_predictions")
    )
    metrics = learned.load("backtest_metrics_mlflow")
    assert f"backtest_{backtest_months[0]}.roc_auc" in metrics


def test_without_a_champion_the_new_model_wins_by_default(learned):
    assert learned.load("champion_comparison") == {
        "champion_version": None,
        "challenger_wins": True,
    }


def test_the_model_learns_and_beats_chance(learned, interaction_mapping):
    metrics = learned.load("holdout_metrics")
    assert metrics["roc_auc"] > 0.7
    assert 0 < metrics["log_loss"] < 0.69
    model = learned.load("lead_scoring_model")
    assert model.feature_names_ == feature_columns(interaction_mapping)
    assert {"roc_auc", "pr_auc", "brier", "f1", "baseline_roc_auc"} <= set(metrics)


def test_tier_shares_add_up(learned):
    metrics = learned.load("holdout_metrics")
    assert metrics["share_hot"] + metrics["share_warm"] + metrics["share_cold"] == pytest.approx(1)


def test_the_scoring_core_reproduces_training_probabilities(
    learned, fast_parameters, city_tiers, interaction_mapping
):
    """Raw holdout leads through the scoring pipeline score as training evaluated them."""
    holdout = learned.load("holdout_leads")
    raw_holdout = learned.load("raw_leads").loc[holdout.index]
    scoring = create_scoring_core()

    def scores(model: str, vocabulary: str):
        inputs = {
            "scoring_leads": raw_holdout,
            "city_tiers": city_tiers,
            "interaction_mapping": interaction_mapping,
            "lead_scoring_model": learned.load(model),
            "category_vocabulary": learned.load(vocabulary),
            "tier_cuts": learned.load("tier_cuts"),
            "probability_calibration": learned.load("probability_calibration"),
            "level_labels": learned.load("level_labels"),
        }
        return run_in_process(scoring, fast_parameters, inputs).load("lead_scores")

    measured = scores("measured_model", "measurement_vocabulary")
    expected = learned.load("holdout_predictions")
    assert len(measured) == len(raw_holdout)
    assert (measured["status"] == "scored").all()
    np.testing.assert_allclose(
        measured["probability"].astype(float), expected["probability"], atol=1e-5
    )
    assert measured["tier"].tolist() == expected["tier"].tolist()
    # The registered model scores the same rows as it was fitted on them, vocabulary included.
    registered = scores("lead_scoring_model", "category_vocabulary")
    labelled = learned.load("model_input_labelled").loc[holdout.index]
    np.testing.assert_allclose(
        registered["probability"].astype(float),
        calibrate_probabilities(
            predict_probabilities(learned.load("lead_scoring_model"), labelled),
            learned.load("probability_calibration"),
        ),
        atol=1e-5,
    )
