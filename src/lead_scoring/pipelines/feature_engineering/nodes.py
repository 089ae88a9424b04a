"""Feature engineering: city tier, interaction-group sums, fitted category levels, time of day."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.compute as pc

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
from lead_scoring.frames import column_arrays, column_values, frame_of
from lead_scoring.pipelines.validation import arrow_cells

if TYPE_CHECKING:
    import pandera.pandas as pa

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


def encode_levels(values, levels: list[str], params: dict) -> pd.Categorical:
    """Map values onto the fitted levels; unseen go to the rare bucket, missing to their own."""
    known, categories = _level_lookup(tuple(levels), params["rare_level"], params["missing_level"])
    cells = arrow_cells(values)
    if cells.type != arrow.large_string():
        cells = cells.cast(arrow.large_string())
    # One Arrow hash lookup, the same call for one lead and a million; pandas' get_indexer
    # first converts a served lead's text to its own index type (0.3 ms a column). The lookup
    # table ends with the rare level and a missing value, so a missing cell finds the missing
    # level's code and an unseen one finds none, which is the rare level's.
    found = pc.index_in(cells, value_set=known, skip_nulls=False)
    # A scalar of the lookup's own type: ``pc.fill_null`` builds one on every call (5 of 10 us).
    rare = arrow.scalar(len(levels), arrow.int32())
    codes = pc.coalesce(found, rare).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(codes, dtype=categories, validate=False)


# Built once per vocabulary: on a served lead, building them costs more than the lookup.
@functools.lru_cache(maxsize=64)
def _level_lookup(
    levels: tuple[str, ...], rare_level: str, missing_level: str
) -> tuple[arrow.Array, pd.CategoricalDtype]:
    # Object levels: CatBoost reads a feature's categories one at a time, and a level read from
    # pandas' Arrow-backed text costs several times more.
    categories = pd.Index([*levels, rare_level, missing_level], dtype=object)
    known = arrow.array([*levels, rare_level, None], arrow.large_string())
    return known, pd.CategoricalDtype(categories)


def interaction_group_sums(leads: pd.DataFrame, interaction_mapping: pd.DataFrame) -> pd.DataFrame:
    """Sum the click columns into their groups with one matrix product (empty cells count 0)."""
    groups, sums = _group_sums(column_arrays(leads), interaction_mapping)
    return pd.DataFrame(sums, columns=groups, index=leads.index)


def _group_sums(arrays: dict, interaction_mapping: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The interaction groups and each lead's click sum in each, rows x groups."""
    columns = tuple(column_values(interaction_mapping, "interaction_type"))
    groups, membership = _group_membership(
        columns, tuple(column_values(interaction_mapping, "interaction_mapping"))
    )
    # One array of columns x leads, turned: numpy's column_stack copies each click column into a
    # matrix of its own first (30 against 14 us a served lead; a batch's time is the same).
    clicks = np.array([arrays[column] for column in columns], dtype="float32")
    return groups, np.nan_to_num(clicks, nan=0.0).T @ membership


@functools.lru_cache(maxsize=16)
def _group_membership(
    columns: tuple[str, ...], mapped_to: tuple[str, ...]
) -> tuple[list[str], np.ndarray]:
    groups = sorted(set(mapped_to))
    membership = (np.array(mapped_to)[:, None] == np.array(groups)[None, :]).astype("float32")
    return groups, membership


def hour_and_weekday(created) -> tuple[np.ndarray, np.ndarray]:
    """Hour of day and weekday (Monday 0) of each creation time (a Series or its array)."""
    # numpy's arithmetic on the times, not pandas' fields: 0.08 ms a served lead, against
    # 5 us. Floor division counts days and hours before 1970 right; 1970-01-01 was a Thursday.
    nanoseconds = np.asarray(created, dtype="datetime64[ns]").view("int64")
    days = nanoseconds // 86_400_000_000_000
    hours = (nanoseconds - days * 86_400_000_000_000) // 3_600_000_000_000
    return hours.astype("int8"), ((days + 3) % 7).astype("int8")


def build_features(
    leads: pd.DataFrame,
    vocabulary: dict[str, list[str]],
    city_tiers: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    params: dict,
) -> pd.DataFrame:
    """The model input: keys, the features and, where present, the label."""
    # Each column is taken out of the frame once: a Series per column costs a served lead 1 ms.
    arrays = column_arrays(leads)
    features = {LEAD_ID: arrays[LEAD_ID], CREATED_DATE: arrays[CREATED_DATE]}
    for column in CATEGORICAL_FEATURES:
        features[column] = encode_levels(arrays[column], vocabulary[column], params)
    features[CITY_TIER] = city_tier(arrays[CITY], city_tiers, params["default_city_tier"])
    features[LEADS_DROPPED] = np.asarray(arrays[LEADS_DROPPED], dtype="float32")
    features[REFERRED] = np.asarray(arrays[REFERRED], dtype="float32")
    groups, sums = _group_sums(arrays, interaction_mapping)
    for position, group in enumerate(groups):
        features[group] = sums[:, position]
    features[TOTAL_INTERACTIONS] = sums.sum(axis=1, dtype="float32")
    features[ANY_INTERACTION] = (features[TOTAL_INTERACTIONS] > 0).astype("int8")
    features[CREATED_HOUR], features[CREATED_WEEKDAY] = hour_and_weekday(arrays[CREATED_DATE])
    if LABEL in arrays:
        features[LABEL] = np.asarray(arrays[LABEL], dtype="int8")
    # Built from the arrays as they are: pandas' own constructor costs a served lead 1 ms.
    return frame_of(features, leads.index)


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
    import pandera.pandas as pa

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
