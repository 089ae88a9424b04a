import numpy as np
import pandas as pd
import pytest

from lead_scoring.pipelines.scoring.nodes import (
    assign_tiers,
    combine_scored_and_quarantined,
    describe_value,
    explain_predictions,
    model_pool,
    predict_probabilities,
    probability_to_score,
    score_leads,
    shap_matrix,
    top_reasons,
)


@pytest.fixture(scope="module")
def holdout(learned):
    return learned.load("model_input_holdout")


@pytest.fixture(scope="module")
def shap_values(learned, holdout):
    return explain_predictions(learned.load("lead_scoring_model"), holdout)


def test_shap_values_add_up_to_the_model_probability(learned, holdout, shap_values):
    from_shap = 1 / (1 + np.exp(-shap_values.sum(axis=1)))
    direct = predict_probabilities(learned.load("lead_scoring_model"), holdout)
    np.testing.assert_allclose(from_shap, direct, atol=1e-9)


def test_shap_values_have_one_column_per_feature_and_the_expected_value(learned, holdout):
    model = learned.load("lead_scoring_model")
    values = shap_matrix(model, model_pool(model, holdout), thread_count=1)
    assert values.shape == (len(holdout), len(model.feature_names_) + 1)
    # The last column is the model's expected log-odds, the same for every lead.
    assert np.ptp(values[:, -1]) == 0


def test_scores_run_from_1_to_99_in_probability_order():
    probability = np.array([0.0, 0.004, 0.5, 0.555, 0.996, 1.0])
    assert probability_to_score(probability).tolist() == [1, 1, 50, 56, 99, 99]


def test_tiers_follow_the_cuts():
    cuts = {"cold_below": 0.2, "hot_from": 0.8}
    assert assign_tiers(np.array([0.1, 0.2, 0.79, 0.8]), cuts).tolist() == [
        "cold",
        "warm",
        "warm",
        "hot",
    ]


def test_the_first_reason_is_the_feature_that_moved_the_score_most(holdout, shap_values):
    reasons = top_reasons(holdout, shap_values, 3)
    features = [c for c in shap_values.columns if c != "expected"]
    contributions = shap_values[features]
    for position in range(0, len(holdout), max(1, len(holdout) // 25)):
        row = contributions.iloc[position]
        top = row.abs().idxmax()
        sign = "(+)" if row[top] > 0 else "(-)"
        expected = f"{describe_value(top, holdout.iloc[position][top])} {sign}"
        assert reasons.iloc[position]["reason_1"] == expected
    assert reasons.notna().all().all()


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("referred_lead", 1.0, "referred lead: yes"),
        ("first_platform_c", "Level7", "platform: Level7"),
        ("total_leads_droppped", 4.0, "checked 4 courses"),
        ("total_leads_droppped", 1.0, "checked 1 course"),
        ("syllabus_interaction", 3.0, "syllabus clicks: 3"),
        ("city_tier", 2, "tier-2 city"),
        ("created_weekday", 0, "created on a Monday"),
        ("total_leads_droppped", np.float32("nan"), "courses checked: not recorded"),
        ("referred_lead", np.float32("nan"), "referral: not recorded"),
    ],
)
def test_reasons_read_like_a_sentence(feature, value, text):
    assert describe_value(feature, value) == text


def test_scored_and_quarantined_rows_come_back_in_input_order(holdout, shap_values, learned):
    scored = score_leads(
        holdout.head(5), shap_values.head(5), learned.load("tier_cuts"), {"n_reasons": 3}
    )
    leads = pd.DataFrame(
        {"lead_id": [str(i) for i in range(7)], "created_date": ["2021-08-01 10:00:00"] * 7}
    )
    scored.index = [0, 1, 3, 4, 6]
    quarantined = pd.DataFrame({"reason": ["bad date", "bad level"]}, index=[2, 5])
    result = combine_scored_and_quarantined(leads, scored, quarantined)
    assert result["lead_id"].tolist() == leads["lead_id"].tolist()
    assert result["status"].tolist() == [
        "scored",
        "scored",
        "quarantined",
        "scored",
        "scored",
        "quarantined",
        "scored",
    ]
    assert result.loc[2, "quarantine_reason"] == "bad date"
    assert result.loc[[0, 1, 3, 4, 6], "score"].between(1, 99).all()
    assert result.loc[[2, 5], "probability"].isna().all()
    assert result.loc[2, "probability"] is None and result.loc[0, "quarantine_reason"] is None
