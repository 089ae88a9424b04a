"""Figures per segment: small segments fold, figures need both outcomes, the report shows them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from lead_scoring.pipelines.reporting.segments import measure_holdout_segments, segment_figures


def _leads(holdout_predictions: pd.DataFrame) -> pd.DataFrame:
    n = len(holdout_predictions)
    platform = np.where(np.arange(n) % 50 == 0, "Level9", np.where(np.arange(n) % 2, "L1", "L0"))
    return holdout_predictions.assign(first_platform_c=platform, city_tier=np.int8(2))


def test_each_segment_measures_its_own_leads_and_small_ones_fold(holdout_predictions):
    leads = _leads(holdout_predictions)
    table = segment_figures(leads, min_leads=200, min_outcomes=10)
    platform = table.loc[table["dimension"] == "platform"].set_index("segment")
    # Largest first (L1 2,500 leads, L0 2,400); Level9's 100, under 200, fold into "other", last.
    assert list(platform.index) == ["L1", "L0", "other"]
    assert list(platform["leads"]) == [2_500, 2_400, 100]
    assert platform["leads"].sum() == len(leads)
    ones = leads.loc[leads["first_platform_c"] == "L1"]
    assert platform.loc["L1", "roc_auc"] == roc_auc_score(
        ones["app_complete_flag"], ones["probability"]
    )
    hot = ones.loc[ones["tier"] == "hot", "app_complete_flag"]
    assert platform.loc["L1", "hot_precision"] == hot.mean()
    # Columns the leads do not carry (UTM source and medium here) give no rows.
    assert set(table["dimension"]) == {"platform", "city tier"}


def test_a_segment_short_of_either_outcome_has_counts_but_no_figure(holdout_predictions):
    leads = _leads(holdout_predictions)
    table = segment_figures(leads, min_leads=1, min_outcomes=1_000)
    level9 = table.loc[table["segment"] == "Level9"].iloc[0]
    assert level9["leads"] == 100 and level9["completers"] > 0
    assert pd.isna(level9["roc_auc"]) and pd.isna(level9["hot_precision"])


def test_holdout_segments_line_up_the_predictions_with_the_model_input(holdout_predictions):
    model_input = _leads(holdout_predictions)[["lead_id", "first_platform_c", "city_tier"]]
    table = measure_holdout_segments(
        holdout_predictions, model_input, {"min_leads": 200, "min_outcomes": 10}
    )
    tier = table.loc[table["dimension"] == "city tier"].iloc[0]
    assert tier["segment"] == "2" and tier["leads"] == len(holdout_predictions)
    assert tier["roc_auc"] == roc_auc_score(
        holdout_predictions["app_complete_flag"], holdout_predictions["probability"]
    )
