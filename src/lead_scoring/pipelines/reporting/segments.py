"""Figures per segment of leads (platform, city tier, UTM source and medium): where a model fails.

One function serves both sides: the holdout segments a train run measures and the realised ones
realised_performance measures on the store's labelled leads, so the two compare like for like.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lead_scoring.contract import HOT, LABEL, MEDIUM, PLATFORM, SOURCE
from lead_scoring.pipelines.feature_engineering import CITY_TIER

# The segment dimensions: readable name and the column of a lead that holds it.
DIMENSIONS = {
    "platform": PLATFORM,
    "city tier": CITY_TIER,
    "UTM source": SOURCE,
    "UTM medium": MEDIUM,
}
OTHER = "other"
SEGMENT_COLUMNS = ["dimension", "segment", "leads", "completers", "roc_auc", "hot_precision"]


def _figures(label: np.ndarray, probability: np.ndarray, tier: np.ndarray, min_outcomes: int):
    from sklearn.metrics import roc_auc_score

    completers = int(label.sum())
    enough = min(completers, len(label) - completers) >= max(min_outcomes, 1)
    hot = tier == HOT
    return {
        "leads": len(label),
        "completers": completers,
        "roc_auc": float(roc_auc_score(label, probability)) if enough else np.nan,
        "hot_precision": float(label[hot].mean()) if enough and hot.any() else np.nan,
    }


def segment_figures(leads: pd.DataFrame, min_leads: int, min_outcomes: int) -> pd.DataFrame:
    """Leads, completers, ROC AUC and hot precision per segment of each dimension.

    Segments with fewer than ``min_leads`` leads fold into one ``other`` segment; a segment with
    fewer than ``min_outcomes`` of either outcome gets counts without figures.
    """
    rows = []
    for dimension, column in DIMENSIONS.items():
        if column not in leads or leads.empty:
            continue
        values = leads[column].astype("object").where(leads[column].notna(), "missing").astype(str)
        counts = values.value_counts()
        values = values.where(values.map(counts) >= min_leads, OTHER)
        for segment, members in leads.groupby(values.to_numpy(), sort=True):
            rows.append(
                {
                    "dimension": dimension,
                    "segment": segment,
                    **_figures(
                        members[LABEL].to_numpy(dtype="int64"),
                        members["probability"].to_numpy(dtype="float64"),
                        members["tier"].to_numpy(),
                        min_outcomes,
                    ),
                }
            )
    table = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    # Largest segments first within a dimension, "other" last: where most leads are is read first.
    table["_other"] = table["segment"] == OTHER
    table = table.sort_values(
        ["dimension", "_other", "leads"], ascending=[True, True, False], kind="stable"
    )
    return table.drop(columns="_other").reset_index(drop=True)


def measure_holdout_segments(
    holdout_predictions: pd.DataFrame, model_input_holdout: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """The holdout's figures per segment, cut on the model input's levels and city tier."""
    fields = [c for c in DIMENSIONS.values() if c in model_input_holdout]
    # predict_holdout keeps the model input's row order: the two line up row for row.
    leads = holdout_predictions.reset_index(drop=True).join(
        model_input_holdout[fields].reset_index(drop=True)
    )
    return segment_figures(leads, params["min_leads"], params["min_outcomes"])
