"""The whole train pipeline in process: splits, model, cuts and metrics hang together."""

import numpy as np
import pytest

from lead_scoring.pipelines.feature_engineering.nodes import feature_columns
from lead_scoring.pipelines.scoring import create_pipeline as create_scoring_pipeline
from tests.pipelines.conftest import run_in_process


def test_holdout_is_later_than_every_fitting_lead(learned):
    fit, holdout = learned.load("fit_leads"), learned.load("holdout_leads")
    assert fit["created_date"].max() <= holdout["created_date"].min()
    assert len(holdout) / (len(fit) + len(holdout)) == pytest.approx(0.2, abs=0.01)


def test_vocabulary_comes_from_fitting_rows_only(learned, fast_parameters):
    vocabulary = learned.load("category_vocabulary")
    fit = learned.load("fit_leads")
    counts = fit["first_platform_c"].value_counts()
    minimum = fast_parameters["feature_engineering"]["min_level_count"]
    assert set(vocabulary["first_platform_c"]) == set(counts[counts >= minimum].index)


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
    """Raw holdout leads through the model's own pipeline score as training evaluated them."""
    holdout = learned.load("holdout_leads")
    raw = learned.load("raw_leads")
    raw_holdout = raw.loc[holdout.index]
    scoring = create_scoring_pipeline()
    inputs = {
        "scoring_leads": raw_holdout,
        "city_tiers": city_tiers,
        "interaction_mapping": interaction_mapping,
        **{
            name: learned.load(name)
            for name in ("lead_scoring_model", "category_vocabulary", "tier_cuts", "level_labels")
        },
    }
    scores = run_in_process(scoring, fast_parameters, inputs).load("lead_scores")
    expected = learned.load("holdout_predictions")
    assert len(scores) == len(raw_holdout)
    assert (scores["status"] == "scored").all()
    np.testing.assert_allclose(
        scores["probability"].astype(float), expected["probability"], atol=1e-5
    )
    assert scores["tier"].tolist() == expected["tier"].tolist()
