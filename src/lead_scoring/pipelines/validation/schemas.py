"""The raw lead schema: column names, value rules, and the Pandera schema that enforces them.

A raw export is read as text, so every rule here judges a cell as it was written. Rules are
vectorised: each takes a column of text and returns a mask of acceptable cells.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc

CREATED_DATE = "created_date"
CITY = "city_mapped"
PLATFORM = "first_platform_c"
MEDIUM = "first_utm_medium_c"
SOURCE = "first_utm_source_c"
LEADS_DROPPED = "total_leads_droppped"
REFERRED = "referred_lead"
LABEL = "app_complete_flag"
LEAD_ID = "lead_id"
# Key of ``DataFrame.attrs`` where ingestion lists the export's columns it did not recognise.
UNKNOWN_COLUMNS = "unknown_columns"

LEVEL_COLUMNS = (PLATFORM, MEDIUM, SOURCE)
ORIGIN_COLUMNS = (CREATED_DATE, CITY, *LEVEL_COLUMNS, LEADS_DROPPED, REFERRED)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
LEVEL_PATTERN = r"^Level\d+$"


def raw_columns(interaction_columns: Sequence[str], with_label: bool) -> list[str]:
    """The export's data columns in their documented order."""
    return [*ORIGIN_COLUMNS, *interaction_columns, *([LABEL] if with_label else [])]


def parse_timestamps(cells: pd.Series) -> pd.Series:
    """Parse export timestamps; cells that are not ``YYYY-MM-DD HH:MM:SS`` become NaT."""
    return pd.to_datetime(cells, format=TIMESTAMP_FORMAT, errors="coerce")


def parse_numbers(cells: pd.Series) -> pd.Series:
    """Parse numeric text; anything that is not a number becomes NaN."""
    try:
        # Arrow's cast is many times faster than pandas' parser and accepts every clean export.
        parsed = pc.cast(arrow.array(cells, from_pandas=True), arrow.float64())
        return pd.Series(parsed.to_numpy(zero_copy_only=False), index=cells.index)
    except (arrow.ArrowInvalid, arrow.ArrowTypeError, arrow.ArrowNotImplementedError):
        return pd.to_numeric(cells, errors="coerce").astype("float64")


def _whole_number_between(low: float, high: float):
    def check(cells: pd.Series) -> pd.Series:
        values = parse_numbers(cells)
        return values.between(low, high) & (values % 1 == 0)

    return check


def _flag(cells: pd.Series) -> pd.Series:
    return parse_numbers(cells).isin([0, 1])


def _timestamp_within(earliest: pd.Timestamp, latest: pd.Timestamp):
    def check(cells: pd.Series) -> pd.Series:
        # A cell that is not a timestamp fails the format rule only: one reason per fault.
        parsed = parse_timestamps(cells)
        return parsed.between(earliest, latest) | parsed.isna()

    return check


def _is_level(cells: pd.Series) -> pd.Series:
    return cells.str.fullmatch(LEVEL_PATTERN)


def _is_timestamp(cells: pd.Series) -> pd.Series:
    return parse_timestamps(cells).notna()


def build_raw_schema(
    interaction_columns: Sequence[str], rules: dict, with_label: bool, today: pd.Timestamp
) -> pa.DataFrameSchema:
    """The Pandera schema of a raw export, its limits taken from the validation parameters."""
    return _cached_raw_schema(
        tuple(interaction_columns), tuple(sorted(rules.items())), with_label, today.normalize()
    )


# Building a schema costs more than validating one served lead, so each is built once a day.
@functools.lru_cache(maxsize=16)
def _cached_raw_schema(
    interaction_columns: tuple[str, ...], rule_items: tuple, with_label: bool, today: pd.Timestamp
) -> pa.DataFrameSchema:
    rules = dict(rule_items)
    earliest = pd.Timestamp(rules["earliest_created_date"])
    # Dates up to the end of the tolerated day count as valid.
    latest = today + pd.Timedelta(days=rules["max_days_in_future"] + 1) - pd.Timedelta(seconds=1)
    max_clicks = rules["max_interaction_count"]

    def count_column(high: float) -> pa.Column:
        return pa.Column(
            nullable=True,
            checks=pa.Check(
                _whole_number_between(0, high), element_wise=False, name=f"whole number 0-{high}"
            ),
        )

    columns = {
        CREATED_DATE: pa.Column(
            nullable=False,
            checks=[
                pa.Check(_is_timestamp, name=f"timestamp {TIMESTAMP_FORMAT}"),
                pa.Check(
                    _timestamp_within(earliest, latest),
                    name=f"date between {earliest.date()} and {latest.date()}",
                ),
            ],
        ),
        CITY: pa.Column(nullable=True),
        **{
            level: pa.Column(
                nullable=True,
                checks=pa.Check(_is_level, name="matches LevelN"),
            )
            for level in LEVEL_COLUMNS
        },
        LEADS_DROPPED: count_column(rules["max_leads_dropped"]),
        REFERRED: pa.Column(nullable=True, checks=pa.Check(_flag, name="flag 0 or 1")),
        **{column: count_column(max_clicks) for column in interaction_columns},
    }
    if with_label:
        columns[LABEL] = pa.Column(nullable=False, checks=pa.Check(_flag, name="label 0 or 1"))
    return pa.DataFrameSchema(columns, strict=False, coerce=False, name="raw_leads")
