import numpy as np
import pandas as pd
import pytest

from lead_scoring.errors import LeadScoringError
from lead_scoring.pipelines.lead_model.nodes import (
    assign_tiers,
    check_level_labels,
    combine_scored_and_quarantined,
    describe_reason,
    describe_value,
    explain_predictions,
    level_label_lookup,
    model_pool,
    predict_probabilities,
    probability_to_score,
    score_leads,
    shap_matrix,
    top_reasons,
)

RAISES, LOWERS = "which raises the score.", "which lowers the score."


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


def test_shap_values_are_those_of_catboosts_public_method(learned, holdout):
    model = learned.load("lead_scoring_model")
    pool = model_pool(model, holdout)
    public = model.get_feature_importance(pool, type="ShapValues", thread_count=1)
    np.testing.assert_array_equal(shap_matrix(model, pool, thread_count=1), public)


def test_scores_run_from_1_to_99_in_probability_order():
    probability = np.array([0.0, 0.004, 0.5, 0.555, 0.996, 1.0])
    assert probability_to_score(probability).tolist() == [1, 1, 50, 56, 99, 99]


def test_tiers_follow_the_score_cuts():
    cuts = {"cold_below_score": 20, "hot_from_score": 80}
    assert assign_tiers(np.array([1, 19, 20, 79, 80, 99]), cuts).tolist() == [
        "cold",
        "cold",
        "warm",
        "warm",
        "hot",
        "hot",
    ]


def test_a_model_with_probability_cuts_gets_tiers_from_its_scores_too():
    """Models registered before the score cuts carry probability cuts: their score stands in."""
    old_cuts = {"cold_below": 0.204, "hot_from": 0.796}
    probability = np.linspace(0, 1, 100_001)
    score = probability_to_score(probability)
    tiers = pd.Series(assign_tiers(score, old_cuts))
    assert tiers.groupby(score).nunique().max() == 1
    assert tiers[score == 20].iloc[0] == "warm" and tiers[score == 19].iloc[0] == "cold"
    assert tiers[score == 80].iloc[0] == "hot" and tiers[score == 79].iloc[0] == "warm"


def test_one_score_is_one_tier_in_training_and_in_scoring(learned, holdout, shap_values):
    """The holdout as training tiered it and as the registered model scores it: a score value
    never sits in two tiers, and the tiers follow the score's order."""
    scored = score_leads(
        holdout,
        shap_values,
        learned.load("tier_cuts"),
        learned.load("probability_calibration"),
        {"n_reasons": 3},
    )
    in_training = learned.load("holdout_predictions")[["score", "tier"]]
    both = pd.concat([scored[["score", "tier"]], in_training], ignore_index=True)
    tiers_per_score = both.groupby("score")["tier"].nunique()
    assert tiers_per_score.max() == 1, tiers_per_score[tiers_per_score > 1].to_dict()
    ranges = both.groupby("tier")["score"].agg(["min", "max"])
    assert set(ranges.index) >= {"cold", "warm"}
    assert ranges.loc["cold", "max"] < ranges.loc["warm", "min"]
    if "hot" in ranges.index:
        assert ranges.loc["warm", "max"] < ranges.loc["hot", "min"]


def test_a_warm_leads_first_reason_is_the_feature_that_moved_its_score_most(holdout, shap_values):
    tiers = np.full(len(holdout), "warm")
    reasons = top_reasons(holdout, shap_values, 3, tiers)
    features = [c for c in shap_values.columns if c != "expected"]
    contributions = shap_values[features]
    for position in range(0, len(holdout), max(1, len(holdout) // 25)):
        row = contributions.iloc[position]
        top = row.abs().idxmax()
        expected = describe_reason(top, holdout.iloc[position][top], row[top] > 0)
        assert reasons.iloc[position]["reason_1"] == expected
    assert reasons.notna().all().all()


def test_reasons_explain_the_tier(holdout, shap_values):
    features = [c for c in shap_values.columns if c != "expected"]
    contributions = shap_values[features].to_numpy()
    hot_or_cold = np.where(contributions.sum(axis=1) > 0, "hot", "cold")
    reasons = top_reasons(holdout, shap_values, 3, hot_or_cold)
    lifts = (contributions > 0).sum(axis=1)
    drags = (contributions < 0).sum(axis=1)
    for tier, wanted, available in (("hot", RAISES, lifts), ("cold", LOWERS, drags)):
        rows = (hot_or_cold == tier) & (available >= 3)
        assert rows.any()
        for column in reasons:
            assert reasons.loc[rows, column].str.endswith(wanted).all(), (tier, column)


def test_no_reason_text_both_lifts_and_lowers(holdout, shap_values):
    tiers = np.full(len(holdout), "warm")
    texts = pd.unique(top_reasons(holdout, shap_values, 3, tiers).to_numpy().ravel())
    stems = pd.Series([t.rsplit(", which ", 1)[0] for t in texts])
    directions = pd.Series([t.rsplit(", which ", 1)[1] for t in texts])
    assert set(directions) == {"raises the score.", "lowers the score."}
    # A stem may appear in both directions for different leads, but every text says which.
    assert all(t.endswith((RAISES, LOWERS)) for t in texts)
    assert stems.str[0].str.isupper().all()


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("referred_lead", 1.0, "Was referred"),
        ("referred_lead", 0.0, "Was not referred"),
        ("first_platform_c", "Level7", "First visit on platform Level7"),
        ("first_utm_medium_c", "rare", "Came through a rarely seen traffic medium"),
        ("city_mapped", "pune", "Lives in Pune"),
        ("total_leads_droppped", 4.0, "Checked 4 courses"),
        ("total_leads_droppped", 1.0, "Checked 1 course"),
        ("syllabus_interaction", 3.0, "Clicked syllabus elements 3 times"),
        ("syllabus_interaction", 0.0, "No clicks on syllabus elements"),
        ("city_tier", 2, "Lives in a tier-2 city"),
        ("created_weekday", 0, "Signed up on a Monday"),
        ("total_leads_droppped", np.float32("nan"), "Courses checked not recorded"),
        ("referred_lead", np.float32("nan"), "Referral not recorded"),
    ],
)
def test_reasons_read_like_a_sentence(feature, value, text):
    assert describe_value(feature, value) == text
    assert describe_reason(feature, value, True) == f"{text}, {RAISES}"
    assert describe_reason(feature, value, False) == f"{text}, {LOWERS}"


def test_level_labels_name_levels_and_unlisted_levels_keep_their_code():
    labels = level_label_lookup(
        pd.DataFrame(
            {
                "column": ["first_platform_c", "first_utm_source_c"],
                "level": ["Level3", "Level2"],
                "label": ["the Android app", ""],
            }
        )
    )
    assert describe_value("first_platform_c", "Level3", labels) == (
        "First visit on platform the Android app"
    )
    assert describe_value("first_utm_source_c", "Level2", labels) == (
        "Came from traffic source Level2"
    )
    assert level_label_lookup(pd.DataFrame(columns=["column", "level", "label"])) == {}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["first_platform", "Level3", "app"]], "row 2: column must be one of"),
        ([["first_platform_c", "3", "app"]], "row 2: level must look like Level7"),
        (
            [["first_platform_c", "Level3", "app"], ["first_platform_c", "Level3", "web"]],
            "row 3: each column and level is named once",
        ),
    ],
)
def test_a_wrong_level_labels_file_stops_training_with_one_line(rows, message):
    with pytest.raises(LeadScoringError, match=message):
        check_level_labels(pd.DataFrame(rows, columns=["column", "level", "label"]))
    check_level_labels(pd.DataFrame(columns=["column", "level", "label"]))


def test_scored_and_quarantined_rows_come_back_in_input_order(holdout, shap_values, learned):
    scored = score_leads(
        holdout.head(5),
        shap_values.head(5),
        learned.load("tier_cuts"),
        learned.load("probability_calibration"),
        {"n_reasons": 3},
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


def test_the_answers_records_are_those_pandas_gives(holdout, shap_values, learned):
    scored = score_leads(
        holdout.head(3),
        shap_values.head(3),
        learned.load("tier_cuts"),
        learned.load("probability_calibration"),
        {"n_reasons": 3},
    )
    leads = pd.DataFrame({"lead_id": ["7", None, "9", "10"], "created_date": [None] * 4})
    scored.index = [0, 1, 3]
    quarantined = pd.DataFrame({"reason": ["bad date"]}, index=[2])
    answer = combine_scored_and_quarantined(leads, scored, quarantined)
    records = answer.to_dict(orient="records")
    assert records == pd.DataFrame(answer).to_dict(orient="records")
    assert [type(record["score"]) for record in records] == [int, int, type(None), int]
    assert records[2]["quarantine_reason"] == "bad date" and records[1]["lead_id"] is None
    # A column of another type goes through pandas.
    answer["model_version"] = np.int64(3)
    assert answer.to_dict(orient="records")[0]["model_version"] == 3


def test_a_few_leads_make_the_pool_that_many_leads_make(learned, holdout, monkeypatch):
    # Up to _SMALL_POOL leads the pool is an object matrix, beyond it a frame: same features.
    import lead_scoring.pipelines.lead_model.nodes as nodes

    model = learned.load("lead_scoring_model")
    few = holdout.iloc[: nodes._SMALL_POOL]
    matrix_pool = model_pool(model, few)
    monkeypatch.setattr(nodes, "_SMALL_POOL", 0)
    frame_pool = model_pool(model, few)
    np.testing.assert_array_equal(
        model.predict(matrix_pool, prediction_type="RawFormulaVal"),
        model.predict(frame_pool, prediction_type="RawFormulaVal"),
    )
    np.testing.assert_array_equal(
        model.calc_leaf_indexes(matrix_pool), model.calc_leaf_indexes(frame_pool)
    )
