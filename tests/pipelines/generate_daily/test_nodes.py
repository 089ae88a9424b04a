"""Synthetic daily exports: one file per day, ids unique across days, outcomes apart."""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lead_scoring.pipelines.generate_daily import create_pipeline
from lead_scoring.pipelines.generate_daily.nodes import daily_generator_settings, split_by_day

DAILY = {"first_day": "2022-02-15", "days": 3, "leads_per_day": 100, "seed": 5}


def generate_leads(parameters, city_tiers, interaction_mapping) -> pd.DataFrame:
    """The daily leads as the pipeline generates them, with generate's own nodes."""
    catalog = DataCatalog(
        {
            "city_tiers": MemoryDataset(city_tiers),
            "interaction_mapping": MemoryDataset(interaction_mapping),
            "params:generate": MemoryDataset(parameters["generate"]),
            "params:generate_daily": MemoryDataset(DAILY),
        }
    )
    pipeline = create_pipeline().to_outputs("daily_raw_leads")
    return SequentialRunner().run(pipeline, catalog)["daily_raw_leads"].load()


def test_each_day_gets_its_own_export_and_outcome_file(parameters, city_tiers, interaction_mapping):
    settings = daily_generator_settings(parameters["generate"], DAILY)
    assert (settings["start_date"], settings["end_date"], settings["n_leads"]) == (
        "2022-02-15",
        "2022-02-17",
        300,
    )
    leads = generate_leads(parameters, city_tiers, interaction_mapping)
    exports, outcomes = split_by_day(leads, DAILY)
    assert list(exports) == ["2022-02-15_leads", "2022-02-16_leads", "2022-02-17_leads"]
    assert list(outcomes) == [name.replace("leads", "outcomes") for name in exports]
    assert sum(len(frame) for frame in exports.values()) == len(leads)
    ids = pd.concat([frame["lead_id"] for frame in exports.values()])
    assert ids.is_unique
    for name, frame in exports.items():
        assert (frame["created_date"].str.slice(0, 10) == name[:10]).all()
        assert "app_complete_flag" not in frame
        assert outcomes[name.replace("leads", "outcomes")]["lead_id"].equals(frame["lead_id"])
        assert frame["lead_id"].str.startswith(name[:10].replace("-", "")).all()
        # pandas' index restarts in each file, as a real feed's does: it is no lead's id.
        assert frame.index.equals(pd.RangeIndex(len(frame)))
