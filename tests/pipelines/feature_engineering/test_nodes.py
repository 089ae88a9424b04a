import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from lead_scoring.pipelines.feature_engineering.nodes import (
    build_checked_features,
    build_features,
    encode_levels,
    feature_columns,
    fit_category_vocabulary,
    hour_and_weekday,
    interaction_group_sums,
)
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.validation.nodes import validate_raw_leads


@pytest.fixture
def clean_leads(raw_leads, interaction_mapping, parameters):
    leads = normalise_raw_leads(raw_leads, interaction_mapping, parameters["ingestion"])
    valid, _ = validate_raw_leads(leads, interaction_mapping, parameters["validation"], True)
    return valid


@pytest.fixture
def settings(parameters):
    return parameters["feature_engineering"]


def test_group_sums_match_a_melt_and_pivot_reference(interaction_mapping):
    rng = np.random.default_rng(3)
    columns = interaction_mapping["interaction_type"].tolist()
    clicks = rng.poisson(0.3, size=(500, len(columns))).astype(float)
    clicks[rng.random(clicks.shape) < 0.7] = np.nan
    leads = pd.DataFrame(clicks, columns=columns)
    long = (
        leads.reset_index()
        .melt(id_vars="index", var_name="interaction_type")
        .merge(interaction_mapping)
    )
    expected = long.pivot_table(
        index="index", columns="interaction_mapping", values="value", aggfunc="sum", fill_value=0
    )
    sums = interaction_group_sums(leads, interaction_mapping)
    np.testing.assert_allclose(sums.to_numpy(), expected.reindex(columns=sums.columns).to_numpy())


def test_vocabulary_keeps_frequent_levels_and_the_top_cities(clean_leads, settings):
    vocabulary = fit_category_vocabulary(
        clean_leads, {**settings, "min_level_count": 30, "city_top_n": 5}
    )
    counts = clean_leads["first_platform_c"].value_counts()
    assert set(vocabulary["first_platform_c"]) == set(counts[counts >= 30].index)
    assert set(vocabulary["city_mapped"]) == set(
        clean_leads["city_mapped"].value_counts().index[:5]
    )


def test_unseen_levels_fold_into_rare_and_missing_stays_apart(settings):
    values = pd.Series(["Level1", "Level99", None, "Level2"], dtype="str")
    encoded = encode_levels(values, ["Level1", "Level2"], settings)
    assert list(encoded) == ["Level1", "rare", "missing", "Level2"]


def test_a_cell_spelt_like_the_buckets_is_an_unseen_level(settings):
    values = pd.Series(["missing", "rare", None], dtype=object)
    encoded = encode_levels(values, ["Level1"], settings)
    assert list(encoded) == ["rare", "rare", "missing"]
    assert list(encoded.codes) == [1, 1, 2]


def test_features_are_built_from_the_leads(clean_leads, city_tiers, interaction_mapping, settings):
    vocabulary = fit_category_vocabulary(clean_leads, settings)
    leads = clean_leads.copy()
    leads.loc[leads.index[:3], "city_mapped"] = ["mumbai", "nowhere-town", np.nan]
    leads.loc[leads.index[0], "syllabus"] = 4
    leads.loc[leads.index[0], "emi_plans_clicked"] = 2
    leads.loc[leads.index[0], "created_date"] = pd.Timestamp("2021-09-06 17:45:00")
    features = build_features(leads, vocabulary, city_tiers, interaction_mapping, settings)
    first = features.iloc[0]
    assert features["city_tier"].iloc[:3].tolist() == [1, 3, 3]
    assert first["syllabus_interaction"] >= 4 and first["payment_interaction"] >= 2
    assert (
        first["total_interactions"]
        == features.iloc[0][sorted(interaction_mapping["interaction_mapping"].unique())].sum()
    )
    assert first["any_interaction"] == 1
    assert (first["created_hour"], first["created_weekday"]) == (17, 0)
    assert features["city_mapped"].iloc[2] == "missing"
    assert set(feature_columns(interaction_mapping)) <= set(features.columns)
    assert features["lead_id"].tolist() == leads["lead_id"].tolist()


def test_hour_and_weekday_of_known_days():
    created = pd.Series(
        pd.to_datetime(
            [
                "2021-09-06 17:45:00",
                "2024-02-29 23:59:59",
                "2026-11-29 00:00:00",
                "2015-01-01 08:00:00",
            ]
        )
    )
    hours, weekdays = hour_and_weekday(created)
    # A Monday, a leap-day Thursday, a Sunday, a Thursday.
    assert hours.tolist() == [17, 23, 0, 8]
    assert weekdays.tolist() == [0, 3, 6, 3]
    assert hours.dtype == weekdays.dtype == "int8"


def test_training_features_are_held_to_the_model_input_contract(
    clean_leads, city_tiers, interaction_mapping, settings
):
    vocabulary = fit_category_vocabulary(clean_leads, settings)
    leads = clean_leads.copy()
    leads.loc[leads.index[0], "syllabus"] = -1
    with pytest.raises(pa.errors.SchemaError, match="syllabus_interaction|greater_than"):
        build_checked_features(leads, vocabulary, city_tiers, interaction_mapping, settings)
