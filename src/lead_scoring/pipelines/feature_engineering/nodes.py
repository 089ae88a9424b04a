"""Feature engineering: city tier, interaction-group sums, fitted category levels, time of day."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pandera.pandas as pa

from lead_scoring.contract import (
    CITY,
    CREATED_DATE,
    LABEL,
    LEAD_ID,
    LEADS_DROPPED,
    LEVEL_COLUMNS,
    REFERRED,
    city_tier,
)

CATEGORICAL_FEATURES = [CITY, *LEVEL_COLUMNS]
CITY_TIER = "city_tier"
TOTAL_INTERACTIONS = "total_interactions"
ANY_INTERACTION = "any_interaction"
CREATED_HOUR = "created_hour"
CREATED_WEEKDAY = "created_weekday"
KEY_COLUMNS = [LEAD_ID, CREATED_DATE]


def interaction_groups(interaction_mapping: pd.DataFrame) -> list[str]:
    """The interaction groups, in a stable order."""
    return sorted(interaction_mapping["interaction_mapping"].unique())


def feature_columns(interaction_mapping: pd.DataFrame) -> list[str]:
    """The model's features, in the order the model sees them."""
    return [
        *CATEGORICAL_FEATURES,
        CITY_TIER,
        LEADS_DROPPED,
        REFERRED,
        *interaction_groups(interaction_mapping),
        TOTAL_INTERACTIONS,
        ANY_INTERACTION,
        CREATED_HOUR,
        CREATED_WEEKDAY,
    ]


def min_level_count(rows: int, params: dict) -> int:
    """The count a level needs to be kept: a share of the rows, never below a floor."""
    # A fixed count folds most of a small export's levels and too few of a large one's.
    return max(int(params["min_level_count"]), int(np.ceil(params["min_level_share"] * rows)))


def fit_category_vocabulary(leads: pd.DataFrame, params: dict) -> dict[str, list[str]]:
    """Levels frequent enough in the fitting rows to keep; the city keeps only its top N."""
    vocabulary = {}
    minimum = min_level_count(len(leads), params)
    for column in CATEGORICAL_FEATURES:
        counts = leads[column].value_counts()
        counts = counts[counts >= minimum]
        if column == CITY:
            counts = counts.head(params["city_top_n"])
        vocabulary[column] = sorted(counts.index.astype(str))
    return vocabulary


def encode_levels(values: pd.Series, levels: list[str], params: dict) -> pd.Categorical:
    """Map values onto the fitted levels; unseen go to the rare bucket, missing to their own."""
    known, categories = _level_lookup(tuple(levels), params["rare_level"], params["missing_level"])
    codes = known.get_indexer(values)
    codes = np.where(codes >= 0, codes, len(levels))
    codes = np.where(values.isna().to_numpy(), len(levels) + 1, codes)
    return pd.Categorical.from_codes(codes, dtype=categories, validate=False)


# Built once per vocabulary: on a served lead, building them costs more than the lookup.
@functools.lru_cache(maxsize=64)
def _level_lookup(
    levels: tuple[str, ...], rare_level: str, missing_level: str
) -> tuple[pd.Index, pd.CategoricalDtype]:
    # Object levels: CatBoost reads a feature's categories one at a time, and a level read from
    # pandas' Arrow-backed text costs several times more.
    categories = pd.Index([*levels, rare_level, missing_level], dtype=object)
    return pd.Index(levels, dtype=object), pd.CategoricalDtype(categories)


def interaction_group_sums(leads: pd.DataFrame, interaction_mapping: pd.DataFrame) -> pd.DataFrame:
    """Sum the click columns into their groups with one matrix product (empty cells count 0)."""
    groups = interaction_groups(interaction_mapping)
    columns = list(interaction_mapping["interaction_type"])
    membership = (
        interaction_mapping["interaction_mapping"].to_numpy()[:, None] == np.array(groups)[None, :]
    ).astype("float32")
    clicks = np.nan_to_num(leads[columns].to_numpy(dtype="float32"), nan=0.0)
    return pd.DataFrame(clicks @ membership, columns=groups, index=leads.index)


def hour_and_weekday(created: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Hour of day and weekday (Monday 0) of each creation time."""
    return created.dt.hour.to_numpy(dtype="int8"), created.dt.day_of_week.to_numpy(dtype="int8")


def build_features(
    leads: pd.DataFrame,
    vocabulary: dict[str, list[str]],
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict,
) -> pd.DataFrame:
    """The model input: keys, the features and, where present, the label."""
    features = {LEAD_ID: leads[LEAD_ID], CREATED_DATE: leads[CREATED_DATE]}
    for column in CATEGORICAL_FEATURES:
        features[column] = encode_levels(leads[column], vocabulary[column], params)
    features[CITY_TIER] = city_tier(leads[CITY], city_tiers, params["default_city_tier"])
    features[LEADS_DROPPED] = leads[LEADS_DROPPED].to_numpy(dtype="float32")
    features[REFERRED] = leads[REFERRED].to_numpy(dtype="float32")
    sums = interaction_group_sums(leads, interaction_mapping).to_numpy()
    for position, group in enumerate(interaction_groups(interaction_mapping)):
        features[group] = sums[:, position]
    features[TOTAL_INTERACTIONS] = sums.sum(axis=1, dtype="float32")
    features[ANY_INTERACTION] = (features[TOTAL_INTERACTIONS] > 0).astype("int8")
    features[CREATED_HOUR], features[CREATED_WEEKDAY] = hour_and_weekday(leads[CREATED_DATE])
    if LABEL in leads:
        features[LABEL] = leads[LABEL].to_numpy(dtype="int8")
    # Built in one go: adding columns one by one costs more than the features on a served lead.
    return pd.DataFrame(features, index=leads.index)


def build_checked_features(
    leads: pd.DataFrame,
    vocabulary: dict[str, list[str]],
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict,
) -> pd.DataFrame:
    """The model input, held to its Pandera contract before a model learns from it."""
    features = build_features(leads, vocabulary, city_tiers, interaction_mapping, params)
    return model_input_schema(vocabulary, interaction_mapping, params).validate(features)


def model_input_schema(
    vocabulary: dict[str, list[str]], interaction_mapping: pd.DataFrame, params: dict
) -> pa.DataFrameSchema:
    """The Pandera contract of the model input."""
    return _cached_model_input_schema(
        json.dumps(vocabulary, sort_keys=True),
        tuple(interaction_groups(interaction_mapping)),
        params["rare_level"],
        params["missing_level"],
    )


# Built once per vocabulary: building costs more than checking one served lead.
@functools.lru_cache(maxsize=16)
def _cached_model_input_schema(
    vocabulary_json: str, groups: tuple[str, ...], rare_level: str, missing_level: str
) -> pa.DataFrameSchema:
    vocabulary = json.loads(vocabulary_json)
    non_negative = pa.Column("float32", pa.Check.ge(0), nullable=True)
    columns = {
        CREATED_DATE: pa.Column("datetime64[ns]", nullable=False, coerce=True),
        **{
            column: pa.Column(
                "category",
                pa.Check.isin([*vocabulary[column], rare_level, missing_level]),
            )
            for column in CATEGORICAL_FEATURES
        },
        CITY_TIER: pa.Column("int8", pa.Check.isin([1, 2, 3])),
        LEADS_DROPPED: non_negative,
        REFERRED: pa.Column("float32", pa.Check.isin([0, 1]), nullable=True),
        **{group: non_negative for group in groups},
        TOTAL_INTERACTIONS: pa.Column("float32", pa.Check.ge(0)),
        ANY_INTERACTION: pa.Column("int8", pa.Check.isin([0, 1])),
        CREATED_HOUR: pa.Column("int8", pa.Check.in_range(0, 23)),
        CREATED_WEEKDAY: pa.Column("int8", pa.Check.in_range(0, 6)),
        LABEL: pa.Column("int8", pa.Check.isin([0, 1]), required=False),
    }
    return pa.DataFrameSchema(columns, strict=False, name="model_input")
