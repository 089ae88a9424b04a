"""The synthetic lead export: layout, reproducibility and calibration on 20,000 leads."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lead_scoring.contract import CREATED_DATE
from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.pipelines.generate import create_pipeline
from lead_scoring.pipelines.generate.nodes import (
    GeneratorSettingsError,
    assemble_raw_export,
    check_generator_settings,
    draw_completion_labels,
    expit,
    n_duplicates,
    sample_interactions,
    sample_lead_origins,
    sample_levels,
    solve_intercept,
)
from tests.conftest import REAL_EXPORT, needs_shared

N_LEADS = 20_000
LEVEL_COLUMNS = ["first_platform_c", "first_utm_medium_c", "first_utm_source_c"]
COUNT_COLUMNS = ["total_leads_droppped", "referred_lead"]


def run_nodes(settings, city_tiers, interaction_mapping) -> pd.DataFrame:
    """Run the four nodes in pipeline order."""
    origins = sample_lead_origins(city_tiers, settings)
    interactions = sample_interactions(origins, interaction_mapping, settings)
    labels = draw_completion_labels(
        origins, interactions, city_tiers, interaction_mapping, settings
    )
    return assemble_raw_export(origins, interactions, labels, settings)


@pytest.fixture(scope="module")
def settings(parameters) -> dict:
    return {**parameters["generate"], "n_leads": N_LEADS}


@pytest.fixture(scope="module")
def export(settings, city_tiers, interaction_mapping) -> pd.DataFrame:
    return run_nodes(settings, city_tiers, interaction_mapping)


@pytest.fixture(scope="module")
def tier(export, city_tiers) -> pd.Series:
    """Business tier of each lead: unlisted or missing cities are tier 3."""
    tiers = dict(zip(city_tiers["city"], city_tiers["tier"], strict=True))
    return export["city_mapped"].map(tiers).fillna(3)


def test_columns_are_the_export_layout(export, interaction_mapping):
    expected = [
        "created_date",
        "city_mapped",
        *LEVEL_COLUMNS,
        *COUNT_COLUMNS,
        *interaction_mapping["interaction_type"],
        "app_complete_flag",
    ]
    assert list(export.columns) == expected
    assert len(expected) == 45
    assert isinstance(export.index, pd.RangeIndex)
    assert export.index.equals(pd.RangeIndex(N_LEADS))


def test_value_types_print_like_the_real_export(export, interaction_mapping):
    numeric = [*COUNT_COLUMNS, *interaction_mapping["interaction_type"]]
    assert (export[numeric].dtypes == np.float64).all()
    assert export["app_complete_flag"].dtype == np.int64
    assert set(export["app_complete_flag"].unique()) == {0, 1}
    assert export["referred_lead"].dropna().isin([0.0, 1.0]).all()
    cities = export["city_mapped"].dropna()
    assert (cities == cities.str.lower()).all()


def test_same_seed_same_export_and_other_seed_differs(settings, city_tiers, interaction_mapping):
    small = {**settings, "n_leads": 2_000}
    first = run_nodes(small, city_tiers, interaction_mapping)
    again = run_nodes(small, city_tiers, interaction_mapping)
    other = run_nodes({**small, "seed": small["seed"] + 1}, city_tiers, interaction_mapping)
    pd.testing.assert_frame_equal(first, again)
    assert not first["created_date"].equals(other["created_date"])
    assert first["app_complete_flag"].ne(other["app_complete_flag"]).any()


def test_the_pipeline_wires_the_catalog_names():
    pipeline = create_pipeline()
    assert pipeline.inputs() == {"city_tiers", "interaction_mapping", "params:generate"}
    assert pipeline.outputs() == {"generated_raw_leads"}


def test_settings_that_describe_no_export_stop_with_one_line(settings):
    assert check_generator_settings(settings) == settings
    for broken in ({"end_date": "2021-01-01"}, {"n_leads": 0}):
        with pytest.raises(GeneratorSettingsError, match="generate.end_date on or after") as error:
            check_generator_settings({**settings, **broken})
        assert "\n" not in str(error.value)


def test_the_draw_options_default_to_the_export_itself(settings, city_tiers, interaction_mapping):
    """draw_seed, created_from/created_to and label_intercept leave the default export as it is."""
    small = {**settings, "n_leads": 2_000}
    plain = run_nodes(small, city_tiers, interaction_mapping)
    spelled_out = {
        **small,
        "draw_seed": small["seed"],
        "created_from": small["start_date"],
        "created_to": small["end_date"],
        "label_intercept": None,
    }
    pd.testing.assert_frame_equal(run_nodes(spelled_out, city_tiers, interaction_mapping), plain)
    redrawn = run_nodes({**small, "draw_seed": 99}, city_tiers, interaction_mapping)
    assert not redrawn[CREATED_DATE].equals(plain[CREATED_DATE])


def test_null_shares_match_the_real_export(export, interaction_mapping):
    assert export["city_mapped"].isna().mean() == pytest.approx(0.038, abs=0.006)
    lost = export["total_leads_droppped"].isna()
    assert 0.001 < lost.mean() < 0.007
    # Both count columns are lost together.
    assert lost.equals(export["referred_lead"].isna())
    for column in ["created_date", *LEVEL_COLUMNS, "app_complete_flag"]:
        assert export[column].notna().all()
    clicking = export[interaction_mapping["interaction_type"]].notna().any(axis=1)
    assert clicking.sum() > 0
    assert clicking.mean() < 0.002


def test_clicks_are_positive_counts_with_a_heavy_tail(export, interaction_mapping):
    values = export[interaction_mapping["interaction_type"]].to_numpy()
    clicks = pd.Series(values[~np.isnan(values)])
    assert len(clicks) > 0
    assert (clicks >= 1).all()
    assert (clicks == np.floor(clicks)).all()
    assert clicks.max() > 10 * clicks.median()


def test_referred_share_and_its_completion(export):
    referred = export["referred_lead"]
    assert referred.mean() == pytest.approx(0.032, abs=0.006)
    # Referrals come with a city in the real export.
    assert referred[export["city_mapped"].isna()].fillna(0).eq(0).all()
    completion = export.groupby("referred_lead")["app_complete_flag"].mean()
    assert completion[1.0] > 0.88
    assert completion[0.0] == pytest.approx(0.48, abs=0.03)


def test_label_rate_is_about_half(export):
    assert export["app_complete_flag"].mean() == pytest.approx(0.502, abs=0.02)


def test_tier_shares_and_completion_by_tier(export, tier):
    shares = tier.value_counts(normalize=True)
    assert shares[1] == pytest.approx(0.515, abs=0.02)
    assert shares[2] == pytest.approx(0.179, abs=0.02)
    assert shares[3] == pytest.approx(0.307, abs=0.02)
    completion = export.groupby(tier)["app_complete_flag"].mean()
    assert completion[1] > completion[2] > completion[3]
    assert completion[1] - completion[3] > 0.04


def test_leads_dropped_distribution(export):
    counts = export["total_leads_droppped"].dropna()
    assert counts.min() >= 1
    assert (counts == np.floor(counts)).all()
    assert counts.median() == 1
    assert counts.quantile(0.95) == 4
    assert counts.mean() == pytest.approx(1.65, abs=0.1)
    assert counts.max() <= 89


def test_completion_is_non_monotone_in_leads_dropped(export):
    counts, flag = export["total_leads_droppped"], export["app_complete_flag"]
    one = flag[counts == 1].mean()
    few = flag[counts.between(3, 4)].mean()
    many = flag[counts >= 8].mean()
    assert few > one + 0.15
    assert few > many + 0.1


def test_some_levels_are_junk_and_some_convert(settings, city_tiers, interaction_mapping):
    export = run_nodes({**settings, "n_leads": 60_000}, city_tiers, interaction_mapping)
    rates = pd.concat(
        [
            export.groupby(column)["app_complete_flag"].agg(["mean", "size"])
            for column in LEVEL_COLUMNS
        ]
    )
    busy = rates[rates["size"] >= 200]
    assert (busy["mean"] < 0.05).any()
    assert (busy["mean"] > 0.70).any()


def test_duplicates_are_exact_copies_at_a_low_rate(export, settings):
    copies = export.duplicated().sum()
    expected = n_duplicates(settings)
    assert expected > 0
    # Distinct leads can coincide by chance, but hardly ever.
    assert expected <= copies <= expected + 2
    assert copies / len(export) < 0.001


def test_dates_are_formatted_within_the_range_and_shuffled(export, settings):
    dates = export["created_date"]
    assert dates.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()
    parsed = pd.to_datetime(dates, format="%Y-%m-%d %H:%M:%S")
    assert parsed.min() >= pd.Timestamp(settings["start_date"])
    assert parsed.max() < pd.Timestamp(settings["end_date"]) + pd.Timedelta(days=1)
    # Every month of the range has leads, and the export is not sorted by date.
    assert parsed.dt.to_period("M").nunique() == 8
    assert not parsed.is_monotonic_increasing
    # Quiet nights: the busiest hour has many times the leads of the quietest.
    by_hour = parsed.dt.hour.value_counts()
    assert by_hour.max() > 8 * by_hour.min()


def test_levels_follow_the_anonymised_vocabulary(export):
    pattern = re.compile(r"^Level\d+$")
    for column in LEVEL_COLUMNS:
        assert export[column].map(lambda level: bool(pattern.match(level))).all()
    # A long tail of rare levels, as in the real export.
    assert export["first_platform_c"].nunique() > 30
    assert export["first_utm_medium_c"].nunique() > 200
    assert export["first_utm_source_c"].nunique() > 60
    assert (export["first_utm_medium_c"].value_counts() == 1).sum() > 30


def test_cities_have_a_long_tail(export):
    cities = export["city_mapped"].dropna()
    assert cities.nunique() > 900
    assert (cities.value_counts() == 1).sum() > 400


def test_platform_level10_grows_over_the_range(export):
    month = pd.to_datetime(export["created_date"]).dt.to_period("M")
    share = export["first_platform_c"].eq("Level10").groupby(month).mean()
    assert share.iloc[-1] > 0.13
    assert share.iloc[-1] > share.iloc[0] + 0.08


def test_written_export_has_the_real_layout(export, tmp_path, interaction_mapping):
    path = tmp_path / "leads.csv"
    RawLeadsDataset(filepath=str(path)).save(export)
    header = path.read_text().splitlines()[0]
    assert header.startswith(",created_date,city_mapped,")
    back = RawLeadsDataset(filepath=str(path)).load()
    assert back.shape == (N_LEADS, 46)
    assert back.columns[0] == "Unnamed: 0"
    assert back["Unnamed: 0"].tolist()[:3] == ["0", "1", "2"]
    assert back["total_leads_droppped"].dropna().str.fullmatch(r"\d+\.0").all()
    assert back["app_complete_flag"].isin(["0", "1"]).all()
    assert back[interaction_mapping["interaction_type"]].isna().all(axis=1).mean() > 0.998


@needs_shared
def test_written_export_header_matches_the_real_export(export, tmp_path):
    path = tmp_path / "leads.csv"
    RawLeadsDataset(filepath=str(path)).save(export.drop(columns="app_complete_flag"))
    real_header = REAL_EXPORT.read_text().splitlines()[0]
    assert path.read_text().splitlines()[0] == real_header


def test_solve_intercept_hits_the_target():
    log_odds = np.random.default_rng(0).normal(0.0, 2.0, 10_000)
    intercept = solve_intercept(log_odds, 0.3)
    assert expit(log_odds + intercept).mean() == pytest.approx(0.3, abs=1e-6)


def test_sample_levels_follows_head_weights_over_time():
    spec = {
        "max_level": 9,
        "tail_share": 0.1,
        "tail_zipf_offset": 0,
        "tail_zipf_exponent": 1.0,
        "head": {"Level0": [1.0, 0.0], "Level1": [0.0, 1.0]},
    }
    rng = np.random.default_rng(0)
    early = sample_levels(np.zeros(20_000), spec, 0, "test", rng)
    late = sample_levels(np.ones(20_000), spec, 0, "test", rng)
    assert np.mean(early == 0) == pytest.approx(0.9, abs=0.01)
    assert np.mean(late == 1) == pytest.approx(0.9, abs=0.01)
    assert np.mean(early >= 2) == pytest.approx(0.1, abs=0.01)
    assert set(np.unique(late)) <= set(range(10))


@pytest.fixture(scope="module")
def drifting(settings, city_tiers, interaction_mapping) -> pd.DataFrame:
    """A 60,000-lead export, each lead marked early (July-December) or late (January-February)."""
    export = run_nodes({**settings, "n_leads": 60_000}, city_tiers, interaction_mapping)
    return export.assign(late=pd.to_datetime(export["created_date"]) >= "2022-01-01")


def test_level_completion_rates_drift_as_in_the_real_export(drifting):
    def rates(column, level):
        return drifting[drifting[column] == level].groupby("late")["app_complete_flag"].mean()

    medium = rates("first_utm_medium_c", "Level2")
    assert medium[False] == pytest.approx(0.61, abs=0.03)
    assert medium[True] == pytest.approx(0.49, abs=0.04)
    source = rates("first_utm_source_c", "Level7")
    assert source[False] == pytest.approx(0.29, abs=0.04)
    assert source[True] < 0.09


def test_a_platform_appears_late_and_rarely_completes(drifting):
    new = drifting[drifting["first_platform_c"] == "Level30"]
    assert pd.Timestamp(new["created_date"].min()) >= pd.Timestamp("2021-12-15")
    assert new["late"].sum() / drifting["late"].sum() == pytest.approx(0.011, abs=0.004)
    assert new["app_complete_flag"].mean() < 0.08
