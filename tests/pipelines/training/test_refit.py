"""What the refit and the recency weights do on an export whose completion rates drift."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from lead_scoring.pipelines import feature_engineering, ingestion, validation
from lead_scoring.pipelines.lead_model.nodes import predict_probabilities
from lead_scoring.pipelines.training.backtest import backtest_out_of_time
from lead_scoring.pipelines.training.nodes import (
    fit_fixed_trees,
    recency_weights,
    scaled_tree_count,
    split_train_validation,
    train_catboost,
)
from tests.conftest import generate_export
from tests.pipelines.conftest import run_in_process


def test_recency_weights_halve_every_half_life():
    created = pd.Series(pd.to_datetime(["2022-01-01", "2022-01-31", "2022-03-02"]))
    np.testing.assert_allclose(recency_weights(created, 30), [0.25, 0.5, 1.0])
    np.testing.assert_allclose(recency_weights(created, None), [1.0, 1.0, 1.0])


def test_the_tree_count_scales_with_the_rows(learned):
    model = learned.load("measured_model")
    assert scaled_tree_count(model, 1000, 1500) == round(model.tree_count_ * 1.5)


@pytest.fixture(scope="module")
def drifting_months(parameters, city_tiers, interaction_mapping):
    """A 20,000-lead drifting export: every month before the newest, and the newest month."""
    raw = generate_export(parameters, city_tiers, interaction_mapping, n_leads=20_000, seed=5)
    preparation = ingestion.create_pipeline() + validation.create_pipeline()
    inputs = {
        "raw_leads": raw,
        "city_tiers": city_tiers,
        "interaction_mapping": interaction_mapping,
    }
    leads = run_in_process(preparation, parameters, inputs).load("clean_leads")
    newest = leads["created_date"].dt.to_period("M") == leads["created_date"].max().to_period("M")
    # The feature pipeline as training runs it: the earlier months are the fitting rows.
    features = run_in_process(
        feature_engineering.create_pipeline(),
        parameters,
        {
            "fit_leads": leads.loc[~newest],
            "holdout_leads": leads.loc[newest],
            "clean_leads": leads.loc[~newest],
            "city_tiers": city_tiers,
            "interaction_mapping": interaction_mapping,
        },
    )
    return features.load("model_input_fit"), features.load("model_input_holdout")


def test_refit_with_recency_weights_beats_fit_only_on_the_newest_month(
    drifting_months, parameters, interaction_mapping
):
    before, newest = drifting_months
    fast = copy.deepcopy(parameters["training"])
    fast["catboost"].update(iterations=400, early_stopping_rounds=50)
    # Fit only, as before: the oldest rows, stopped early on the latest slice, every lead alike.
    train, stopping = split_train_validation(before, fast)
    fit_only = train_catboost(
        train, stopping, interaction_mapping, {**fast, "recency_half_life_days": None}
    )
    # Refit on every earlier lead with the scaled tree count, the newest weighing most.
    trees = scaled_tree_count(fit_only, len(train), len(before))
    refit = fit_fixed_trees(before, trees, interaction_mapping, fast)
    label = newest["app_complete_flag"]
    old, new = (predict_probabilities(m, newest) for m in (fit_only, refit))
    assert roc_auc_score(label, new) > roc_auc_score(label, old)
    assert log_loss(label, new) < log_loss(label, old)


def test_an_export_too_short_for_a_backtest_month_falls_back_on_the_validation_slice(
    learned, fast_parameters, interaction_mapping, caplog
):
    params = {**fast_parameters["training"], "backtest": {"months": 2, "min_fold_leads": 10**6}}
    validation_slice = learned.load("model_input_validation")
    predictions = backtest_out_of_time(
        learned.load("model_input_fit"),
        learned.load("measured_model"),
        learned.load("model_input_train"),
        validation_slice,
        interaction_mapping,
        params,
    )
    assert (predictions["month"] == "validation").all()
    assert len(predictions) == len(validation_slice)
    assert "fall back on the validation slice" in caplog.text
