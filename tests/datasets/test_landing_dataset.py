"""The landing folder: each export read once, whatever order the names sort in."""

from __future__ import annotations

import pandas as pd

from lead_scoring.datasets import LandingDataset, RawLeadsDataset


def _drop(folder, name: str) -> None:
    RawLeadsDataset(filepath=str(folder / f"{name}.csv")).save(
        pd.DataFrame({"created_date": ["2022-02-15 10:00:00"]})
    )


def _landing(folder) -> LandingDataset:
    # A new instance per run, as each `kedro run` builds its catalog.
    return LandingDataset(
        path=str(folder), dataset="lead_scoring.datasets.RawLeadsDataset", filename_suffix=".csv"
    )


def test_each_file_is_read_once_and_only_after_confirmation(tmp_path):
    _drop(tmp_path, "2022-02-15_leads")
    _drop(tmp_path, "2022-02-16_leads")
    first = _landing(tmp_path)
    assert sorted(first.load()) == ["2022-02-15_leads", "2022-02-16_leads"]
    # A run that failed before confirming reads the same files again.
    assert sorted(_landing(tmp_path).load()) == ["2022-02-15_leads", "2022-02-16_leads"]
    first.confirm()
    assert _landing(tmp_path).load() == {}


def test_a_file_that_sorts_before_the_last_one_read_is_still_read(tmp_path):
    _drop(tmp_path, "2022-02-17_leads")
    landing = _landing(tmp_path)
    landing.load()
    landing.confirm()
    # The outcomes of an earlier day arrive later: the stock checkpoint would skip them.
    _drop(tmp_path, "2022-02-15_outcomes")
    later = _landing(tmp_path)
    assert list(later.load()) == ["2022-02-15_outcomes"]
    later.confirm()
    assert _landing(tmp_path).load() == {}
