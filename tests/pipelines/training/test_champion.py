"""How the champion comparison reads back when the champion's data ends."""

from __future__ import annotations

import pandas as pd

from lead_scoring.pipelines.training.champion import from_unix_days


def test_the_champions_newest_lead_comes_back_to_the_second_it_was_logged():
    newest = pd.Timestamp("2022-02-28 23:41:14")
    # As the refit logs it: `registered.newest_lead_unix_days`, a float metric.
    logged = newest.timestamp() / 86_400
    assert pd.Timestamp(logged * 86_400, unit="s") != newest  # the float alone misses it
    assert from_unix_days(logged) == newest
    assert str(from_unix_days(logged)) == "2022-02-28 23:41:14"
