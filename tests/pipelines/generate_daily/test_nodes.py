"""Synthetic daily exports: after the default export, CRM ids unique across days, outcomes late."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID, PLATFORM, REFERRED
from lead_scoring.pipelines.generate import GENERATOR_SETTINGS
from lead_scoring.pipelines.generate import create_pipeline as create_generate_pipeline
from lead_scoring.pipelines.generate_daily import create_pipeline
from lead_scoring.pipelines.generate_daily.nodes import (
    DailySettingsError,
    day_settings,
    day_volume,
    export_days,
    leads_of_day,
)
from tests.conftest import generate_export

DAILY = {
    "first_day": None,
    "days": 4,
    "leads_per_day": 60,
    "outcome_delay_days": 2,
    "reference_leads": 3_000,
    "seed": 5,
}
CRM_ID = r"L\d{8}-\d{6}"


def run_daily(parameters, city_tiers, interaction_mapping, **daily) -> dict:
    """The lead and outcome exports of one generate_daily run, as the pipeline saves them."""
    catalog = DataCatalog(
        {
            "city_tiers": MemoryDataset(city_tiers),
            "interaction_mapping": MemoryDataset(interaction_mapping),
            "params:generate": MemoryDataset(parameters["generate"]),
            "params:generate_daily": MemoryDataset({**DAILY, **daily}),
        }
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    return {name: outputs[name].load() for name in outputs}


@pytest.fixture(scope="module")
def first_run(parameters, city_tiers, interaction_mapping) -> dict:
    return run_daily(parameters, city_tiers, interaction_mapping)


def test_the_days_continue_after_the_default_export(parameters):
    days = export_days(parameters["generate"], DAILY)
    assert days[0] == pd.Timestamp(parameters["generate"]["end_date"]) + pd.Timedelta(days=1)
    assert len(days) == DAILY["days"]
    later = export_days(parameters["generate"], {**DAILY, "first_day": "2022-04-01"})
    assert later[0] == pd.Timestamp("2022-04-01")


def test_each_day_is_a_crm_export_with_ids_unique_across_days(first_run):
    exports = first_run["daily_landing_exports"]
    assert list(exports) == [
        "2022-03-01_leads",
        "2022-03-02_leads",
        "2022-03-03_leads",
        "2022-03-04_leads",
    ]
    ids = pd.concat([frame[LEAD_ID] for frame in exports.values()])
    assert ids.is_unique and ids.str.fullmatch(CRM_ID).all()
    for name, frame in exports.items():
        assert frame.columns[0] == LEAD_ID and LABEL not in frame
        # pandas' index restarts in each file, as a real feed's does: it is no lead's id.
        assert frame.index.equals(pd.RangeIndex(len(frame)))
        assert (frame[CREATED_DATE].str.slice(0, 10) == name[:10]).all()
        assert frame[CREATED_DATE].is_monotonic_increasing
        assert frame[LEAD_ID].str.startswith(f"L{name[:10].replace('-', '')}-").all()
    # Days differ in volume, as weekdays and campaigns make them, around the mean.
    volumes = [len(frame) for frame in exports.values()]
    assert len(set(volumes)) > 1
    assert 0.5 * DAILY["leads_per_day"] < sum(volumes) / len(volumes) < 1.5 * DAILY["leads_per_day"]


def test_a_benchmark_gets_exactly_the_leads_it_asks_for(parameters):
    exact = {**DAILY, "vary_volume": False}
    days = export_days(parameters["generate"], exact)
    assert {day_volume(parameters["generate"], exact, day) for day in days} == {60}


def test_each_days_outcomes_are_those_of_the_leads_created_the_delay_before(first_run):
    exports, outcomes = first_run["daily_landing_exports"], first_run["daily_outcome_exports"]
    # The first two days' outcomes would be of leads before the series: none arrive.
    assert list(outcomes) == ["2022-03-03_outcomes", "2022-03-04_outcomes"]
    for arrival, created in (("2022-03-03", "2022-03-01"), ("2022-03-04", "2022-03-02")):
        frame = outcomes[f"{arrival}_outcomes"]
        assert frame.columns.tolist() == [LEAD_ID, LABEL]
        assert frame[LEAD_ID].equals(exports[f"{created}_leads"][LEAD_ID])
        assert frame[LABEL].isin([0, 1]).all() and 0 < frame[LABEL].mean() < 1


def test_a_later_run_delivers_the_outcomes_of_an_earlier_runs_leads(
    first_run, parameters, city_tiers, interaction_mapping
):
    later = run_daily(parameters, city_tiers, interaction_mapping, first_day="2022-03-05", days=2)
    assert list(later["daily_landing_exports"]) == ["2022-03-05_leads", "2022-03-06_leads"]
    assert list(later["daily_outcome_exports"]) == ["2022-03-05_outcomes", "2022-03-06_outcomes"]
    # The leads of 2022-03-03 are the first run's: the same ids, the same fields.
    earlier = first_run["daily_landing_exports"]["2022-03-03_leads"]
    assert later["daily_outcome_exports"]["2022-03-05_outcomes"][LEAD_ID].equals(earlier[LEAD_ID])


def test_a_day_is_drawn_by_the_generators_own_nodes(parameters, city_tiers, interaction_mapping):
    day = pd.Timestamp("2022-03-02")
    drawn = leads_of_day(
        city_tiers, interaction_mapping, parameters["generate"], DAILY, day, intercept=0.5
    )
    assert len(drawn) > 0
    # The generator's pipeline on the day's settings, with the volume the day got.
    settings = day_settings(parameters["generate"], DAILY, day, len(drawn), intercept=0.5)
    catalog = DataCatalog(
        {
            "city_tiers": MemoryDataset(city_tiers),
            "interaction_mapping": MemoryDataset(interaction_mapping),
            "generator_settings": MemoryDataset(settings),
        }
    )
    generator = create_generate_pipeline().from_inputs(GENERATOR_SETTINGS)
    generated = SequentialRunner().run(generator, catalog)
    expected = generated["generated_raw_leads"].load().sort_values(CREATED_DATE, kind="stable")
    pd.testing.assert_frame_equal(
        drawn.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days": 0}, "days is 0"),
        ({"leads_per_day": 0}, "leads_per_day is 0"),
        ({"outcome_delay_days": -1}, "outcome_delay_days must be 0 or more"),
    ],
)
def test_settings_that_describe_no_export_stop_with_one_line(parameters, change, message):
    with pytest.raises(DailySettingsError, match=message) as error:
        export_days(parameters["generate"], {**DAILY, **change})
    assert "\n" not in str(error.value)


def test_the_new_days_continue_the_default_exports_last_month(
    parameters, city_tiers, interaction_mapping
):
    """Completion, platforms and referrals of the new days are those of the export's end."""
    n_leads = 60_000
    export = generate_export(parameters, city_tiers, interaction_mapping, n_leads, seed=42)
    last_month = export.loc[export[CREATED_DATE].str.startswith("2022-02")]
    world = {**parameters, "generate": {**parameters["generate"], "n_leads": n_leads}}
    run = run_daily(
        world, city_tiers, interaction_mapping, days=14, leads_per_day=600, outcome_delay_days=0
    )
    outcomes = pd.concat(run["daily_outcome_exports"].values())
    leads = pd.concat(run["daily_landing_exports"].values())
    assert len(outcomes) == len(leads) > 5_000
    completion_before = last_month[LABEL].astype(int).mean()
    assert outcomes[LABEL].mean() == pytest.approx(completion_before, abs=0.03)
    share = leads[PLATFORM].value_counts(normalize=True)
    share_before = last_month[PLATFORM].value_counts(normalize=True)
    for level in share_before.index[:3]:
        assert share.get(level, 0) == pytest.approx(share_before[level], abs=0.04), level
    referred = pd.to_numeric(leads[REFERRED]).mean()
    assert referred == pytest.approx(pd.to_numeric(last_month[REFERRED]).mean(), abs=0.015)
