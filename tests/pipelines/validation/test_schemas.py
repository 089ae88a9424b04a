import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lead_scoring.pipelines.validation.schemas import parse_timestamps, timestamp_array

# Cells pandas' parser and the byte reader could disagree on: padding, impossible dates and
# times, leap days, stray characters, years past the nanosecond range.
ODD_CELLS = [
    "2021-07-01 10:20:30",
    "2021-7-1 1:2:3",
    "2021-02-30 10:00:00",
    "2021-07-01 24:00:00",
    "2021-07-01 23:59:60",
    "2021-12-31 23:60:00",
    "2021-00-10 00:00:00",
    "2021-01-00 00:00:00",
    "2021-13-01 00:00:00",
    "2024-02-29 23:59:59",
    "2023-02-29 00:00:00",
    "1900-02-29 00:00:00",
    "2000-02-29 00:00:00",
    "1969-12-31 23:59:59",
    "1677-09-21 00:12:44",
    "2262-04-11 23:47:16",
    "0001-01-01 00:00:00",
    "2300-01-01 00:00:00",
    "2021-07-01T10:20:30",
    "2021-07-01 10:20",
    "2021-07-01",
    "2021-07-01 10:20:30.5",
    "2021-07-01  10:20:30",
    "20210701 102030",
    "+2021-07-01 10:20:30",
    "2021/07/01 10:20:30",
    "2021-07-01 10:20:3a",
    "2021-07-01é10:20:30",
    "２０２１-07-01 10:20:30",
    "",
    "x",
    None,
]


def _generated_cells(count: int) -> list[str]:
    """Timestamps with fields out of range now and then, and a stray byte in one in five."""
    draw = random.Random(3)
    cells = []
    for _ in range(count):
        cell = (
            f"{draw.randint(1690, 2210):04d}-{draw.randint(0, 13):02d}-{draw.randint(0, 32):02d} "
            f"{draw.randint(0, 25):02d}:{draw.randint(0, 61):02d}:{draw.randint(0, 61):02d}"
        )
        if draw.random() < 0.2:
            at = draw.randrange(len(cell))
            cell = cell[:at] + draw.choice("0123456789-: T") + cell[at + 1 :]
        cells.append(cell)
    return cells


@pytest.mark.parametrize("held_as", ["object", "pandas text", "a slice of Arrow text"])
def test_timestamps_read_from_bytes_are_what_pandas_parses(held_as):
    cells = ODD_CELLS + _generated_cells(5_000)
    expected = parse_timestamps(pd.Series(cells, dtype=object)).to_numpy(dtype="datetime64[ns]")
    if held_as == "object":
        given = np.array(cells, dtype=object)
    elif held_as == "pandas text":
        given = pd.array(cells, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    else:
        given = pa.array(["before", *cells, "after"], pa.large_string()).slice(1, len(cells))
    np.testing.assert_array_equal(timestamp_array(given), expected)


def test_no_cells_or_only_missing_ones_are_no_times():
    assert timestamp_array(np.array([], dtype=object)).shape == (0,)
    assert np.isnat(timestamp_array(np.array([None, None], dtype=object))).all()
