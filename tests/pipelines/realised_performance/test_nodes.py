"""The measuring nodes on small frames: months, notes and the rules for a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from lead_scoring.pipelines.realised_performance.nodes import (
    measure_realised_performance,
    realised_figures,
)


def _scores(created: list[str], label: list[int], probability: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(label))],
            "model_name": "lead_scoring",
            "model_version": "3",
            "role": "champion",
            "probability": probability,
            "tier": np.where(np.asarray(probability) >= 0.5, "hot", "cold"),
            "created_date": created,
            "app_complete_flag": label,
        }
    )


def test_a_lead_without_a_readable_creation_time_counts_in_all_only(caplog):
    scores = _scores(
        ["2022-01-03 10:00:00", "2022-01-04 11:00:00", "not a date", "2022-02-01 09:00:00"],
        [1, 0, 1, 0],
        [0.9, 0.2, 0.6, 0.4],
    )
    rows = measure_realised_performance(scores, {"min_outcomes": 1}).set_index("period")
    assert list(rows.index) == ["all", "2022-01", "2022-02"]
    assert list(rows["labelled_leads"]) == [4, 2, 1]
    assert rows.loc["all", "roc_auc"] == roc_auc_score([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.4])
    assert "1 labelled score(s) have a created_date that is not a timestamp" in caplog.text
    # February holds one non-completer only: no figure, and the note says why.
    assert rows.loc["2022-02", "note"] == "too few outcomes: 0 completers, 1 needed"


def test_no_hot_lead_means_no_hot_precision_and_a_note():
    label, probability = np.array([1, 0, 1, 0]), np.array([0.3, 0.1, 0.4, 0.2])
    row = realised_figures(label, probability, np.array(["warm"] * 4, dtype=object), 1)
    assert row["roc_auc"] == 1.0 and row["hot_precision"] is None
    assert row["note"] == "no lead scored hot: no hot precision"
    assert row["cold_completers_lost"] == 0 and row["completion_rate"] == 0.5
