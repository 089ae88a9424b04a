"""Scoring core, carried inside the registered model: probability, score, tier and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, Pool

from lead_scoring.pipelines.feature_engineering.nodes import (
    ANY_INTERACTION,
    CATEGORICAL_FEATURES,
    CITY_TIER,
    CREATED_HOUR,
    CREATED_WEEKDAY,
    TOTAL_INTERACTIONS,
)
from lead_scoring.pipelines.validation.schemas import (
    CITY,
    CREATED_DATE,
    LEAD_ID,
    LEADS_DROPPED,
    MEDIUM,
    PLATFORM,
    REFERRED,
    SOURCE,
)

SCORE_COLUMNS = ["probability", "score", "tier"]
_NOT_RECORDED = {
    LEADS_DROPPED: "courses checked: not recorded",
    REFERRED: "referral: not recorded",
}
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def model_pool(model: CatBoostClassifier, model_input: pd.DataFrame) -> Pool:
    """The model's features of ``model_input`` as a CatBoost pool."""
    features = model_input[model.feature_names_]
    return Pool(features, cat_features=[c for c in CATEGORICAL_FEATURES if c in features])


def predict_probabilities(model: CatBoostClassifier, model_input: pd.DataFrame) -> np.ndarray:
    """Probability of completing an application for each lead."""
    return model.predict_proba(model_pool(model, model_input))[:, 1]


def explain_predictions(model: CatBoostClassifier, model_input: pd.DataFrame) -> pd.DataFrame:
    """SHAP values per lead and feature; their sum with ``expected`` is the lead's log-odds."""
    if model_input.empty:
        return pd.DataFrame(columns=[*model.feature_names_, "expected"], dtype="float64")
    shap = shap_matrix(
        model,
        model_pool(model, model_input),
        # The fitted thread count: CatBoost's own default leaves a core idle here.
        thread_count=model.get_param("thread_count") or -1,
    )
    return pd.DataFrame(shap, columns=[*model.feature_names_, "expected"], index=model_input.index)


def shap_matrix(model: CatBoostClassifier, pool: Pool, thread_count: int) -> np.ndarray:
    """SHAP values of ``pool``, rows x (features + 1), the last column the expected log-odds."""
    return model.get_feature_importance(pool, type="ShapValues", thread_count=thread_count)


def probability_to_score(probability: np.ndarray) -> np.ndarray:
    """A 1-99 score a rep can sort by."""
    return np.clip(np.rint(probability * 100), 1, 99).astype("int16")


def assign_tiers(probability: np.ndarray, tier_cuts: dict) -> np.ndarray:
    """hot at or above the precision cut, cold below the recall cut, warm between."""
    return np.select(
        [probability >= tier_cuts["hot_from"], probability < tier_cuts["cold_below"]],
        ["hot", "cold"],
        "warm",
    )


def _count(value: float, one: str, many: str) -> str:
    return f"{value:g} {one if value == 1 else many}"


def describe_value(feature: str, value) -> str:
    """A feature's value in words a sales rep reads."""
    if pd.isna(value):
        return _NOT_RECORDED.get(feature, f"{feature.replace('_', ' ')}: not recorded")
    if feature in (PLATFORM, MEDIUM, SOURCE, CITY):
        label = {PLATFORM: "platform", MEDIUM: "traffic medium", SOURCE: "traffic source"}.get(
            feature, "city"
        )
        return f"{label}: {value}"
    phrases = {
        CITY_TIER: lambda v: f"tier-{int(v)} city",
        LEADS_DROPPED: lambda v: f"checked {_count(v, 'course', 'courses')}",
        REFERRED: lambda v: f"referred lead: {'yes' if v else 'no'}",
        TOTAL_INTERACTIONS: lambda v: f"site clicks: {v:g}",
        ANY_INTERACTION: lambda v: f"clicked on the site: {'yes' if v else 'no'}",
        CREATED_HOUR: lambda v: f"created at {int(v):02d}:00",
        CREATED_WEEKDAY: lambda v: f"created on a {_WEEKDAYS[int(v)]}",
    }
    if feature in phrases:
        return phrases[feature](value)
    return f"{feature.removesuffix('_interaction')} clicks: {value:g}"


def top_reasons(
    model_input: pd.DataFrame, shap_values: pd.DataFrame, n_reasons: int
) -> pd.DataFrame:
    """The ``n_reasons`` features that moved each lead's score most, in words, with direction."""
    features = [c for c in shap_values.columns if c != "expected"]
    columns = [f"reason_{k + 1}" for k in range(n_reasons)]
    if model_input.empty:
        return pd.DataFrame(index=model_input.index, columns=columns, dtype="str")
    contributions = shap_values.to_numpy()[:, shap_values.columns != "expected"]
    rows = np.arange(len(contributions))
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :n_reasons]
    # Phrase each distinct value of each chosen feature once, in both directions, in one table;
    # a lead's reason is then a lookup: its value's entry, plus one when the push is upward.
    entries = np.zeros(contributions.shape, dtype="int64")
    phrases: list[str] = []
    for position in np.unique(order):
        feature = features[position]
        codes, uniques = pd.factorize(model_input[feature], use_na_sentinel=False)
        entries[:, position] = len(phrases) + 2 * codes
        for value in uniques:
            text = describe_value(feature, value)
            phrases += [f"{text} (-)", f"{text} (+)"]
    table = np.array(phrases, dtype=object)
    reasons = {}
    for k, column in enumerate(columns):
        chosen = order[:, k]
        pushes_up = contributions[rows, chosen] > 0
        reasons[column] = table[entries[rows, chosen] + pushes_up]
    return pd.DataFrame(reasons, index=model_input.index, dtype="str")


def score_leads(
    model_input: pd.DataFrame, shap_values: pd.DataFrame, tier_cuts: dict, params: dict
) -> pd.DataFrame:
    """Probability, 1-99 score, tier and top reasons for each valid lead."""
    log_odds = shap_values.to_numpy().sum(axis=1)
    probability = 1.0 / (1.0 + np.exp(-log_odds))
    scored = pd.DataFrame(
        {
            "probability": probability.round(6),
            "score": probability_to_score(probability),
            "tier": assign_tiers(probability, tier_cuts),
        },
        index=model_input.index,
    )
    return pd.concat([scored, top_reasons(model_input, shap_values, params["n_reasons"])], axis=1)


def _objects(values: pd.Series | np.ndarray) -> np.ndarray:
    """Values as Python objects, missing ones as None."""
    return pd.Series(values).to_numpy(dtype=object, na_value=None)


def combine_scored_and_quarantined(
    normalised_leads: pd.DataFrame, scored: pd.DataFrame, quarantined: pd.DataFrame
) -> pd.DataFrame:
    """One row per input lead, in input order: scored, or quarantined with its reason."""
    rows = normalised_leads.index
    scored_at = rows.get_indexer(scored.index)
    quarantined_at = rows.get_indexer(quarantined.index)

    def spread(values: np.ndarray) -> np.ndarray:
        column = np.full(len(rows), None, dtype=object)
        column[scored_at] = values
        return column

    # Missing values as None, not NaN: the served JSON must parse in strict clients.
    result = {
        LEAD_ID: _objects(normalised_leads[LEAD_ID]),
        CREATED_DATE: _objects(normalised_leads[CREATED_DATE]),
        **{column: spread(_objects(scored[column])) for column in scored.columns},
        "status": np.full(len(rows), "scored", dtype=object),
        "quarantine_reason": np.full(len(rows), None, dtype=object),
    }
    # A whole score whether or not a quarantined row shares the batch.
    result["score"] = spread(scored["score"].to_numpy().astype(int).astype(object))
    result["status"][quarantined_at] = "quarantined"
    result["quarantine_reason"][quarantined_at] = _objects(quarantined["reason"])
    return pd.DataFrame(result, index=rows, dtype=object)
