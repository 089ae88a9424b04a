"""Property-based tests over the raw schema: random corruptions of random cells of a generated
export never crash the scoring core or the training gate, and every lead stays accounted for.
"""

from __future__ import annotations

import csv
import string
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lead_scoring.cli import _explained_cause
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.validation.nodes import accept_training_leads, validate_raw_leads
from tests.reliability.conftest import (
    INDEX,
    LABEL,
    assert_every_row_accounted,
    load_export,
    score,
    write_export,
)

N_LEADS = 40
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ODD_CELLS = [
    *["", " ", "\t", "NULL", "None", "n/a", "NaN", "nan", "-", "?"],
    *["-1", "-0", "+3", " 3 ", "2.5", "1e3", "1e308", "1e309", "99999999999999999999", "0x1A"],
    *["inf", "-inf", "Infinity", "1_000", "１２", "3,5", "true", "yes", "two"],
    *["Level999", "level 7", " LEVEL3 ", "Level-3", "Level 3.0", "Platform X", "LEVEL"],
    *["MUMBAI", "  pune ", "São Paulo", "北京", "💥", "a,b", 'say "hi"', "it's", "x;y", "a\nb"],
    *["2021-02-30 10:00:00", "2021-13-01 00:00:00", "2021-08-01", "2021-08-01T10:00:00"],
    *["26/08/2021 15:26", "2999-01-01 00:00:00", "1999-12-31 23:59:59", "yesterday"],
]
DATE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%Y%m%d%H%M%S", "%c"]

cells = st.one_of(
    st.sampled_from(ODD_CELLS),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.text(string.printable, max_size=8),
    st.integers(-(10**15), 10**15).map(str),
    st.floats().map(repr),
    st.tuples(
        st.datetimes(datetime(1900, 1, 1), datetime(2100, 12, 31)), st.sampled_from(DATE_FORMATS)
    ).map(lambda moment: moment[0].strftime(moment[1])),
)


# Two well-formed ways to write any cell: Python's CSV writer quotes a cell holding a line break
# only when the break is part of the line terminator.
layouts = st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL)])


def corruptions(columns: list[str]):
    """A few (row, column, cell) changes, the index column excepted."""
    return st.lists(
        st.tuples(st.integers(0, N_LEADS - 1), st.sampled_from(columns), cells),
        min_size=1,
        max_size=12,
    )


def corrupt(frame: pd.DataFrame, changes) -> tuple[pd.DataFrame, dict[int, set[str]]]:
    broken = frame.copy()
    touched: dict[int, set[str]] = {}
    for row, column, value in changes:
        broken.loc[row, column] = value
        touched.setdefault(row, set()).add(column)
    return broken, touched


@pytest.fixture(scope="module")
def leads(export_cells) -> pd.DataFrame:
    return export_cells.drop(columns=LABEL).head(N_LEADS).reset_index(drop=True)


@pytest.fixture(scope="module")
def labelled(export_cells) -> pd.DataFrame:
    return export_cells.head(N_LEADS).reset_index(drop=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


def test_random_corruptions_never_crash_scoring_and_every_lead_is_accounted(
    scoring_model, leads, workdir
):
    data_columns = [c for c in leads.columns if c != INDEX]

    @PROPERTY_SETTINGS
    @given(changes=corruptions(data_columns), layout=layouts)
    def check(changes, layout):
        broken, touched = corrupt(leads, changes)
        line_end, quoting = layout
        path = write_export(broken, workdir / "scoring.csv", line_end=line_end, quoting=quoting)
        raw = load_export(path)
        assert len(raw) == N_LEADS
        scores = score(scoring_model, raw)
        assert_every_row_accounted(raw, scores)
        for row, status in scores["status"].items():
            if row not in touched:
                assert status == "scored"  # a clean lead never pays for a broken neighbour
            elif status == "quarantined":
                column = scores.loc[row, "quarantine_reason"].split(":")[0]
                assert column in touched[row]

    check()


def test_random_corruptions_never_crash_the_training_gate(
    labelled, interaction_mapping, parameters, workdir
):
    data_columns = [c for c in labelled.columns if c != INDEX]

    @PROPERTY_SETTINGS
    @given(changes=corruptions(data_columns), layout=layouts)
    def check(changes, layout):
        broken, touched = corrupt(labelled, changes)
        line_end, quoting = layout
        path = write_export(broken, workdir / "training.csv", line_end=line_end, quoting=quoting)
        raw = load_export(path)
        leads = normalise_raw_leads(raw, interaction_mapping, parameters["ingestion"])
        valid, quarantine = validate_raw_leads(
            leads, interaction_mapping, parameters["validation"], True
        )
        assert len(valid) + len(quarantine) == N_LEADS
        assert set(quarantine.index) <= set(touched)
        assert quarantine["reason"].str.len().gt(0).all()
        for row, column in quarantine["column"].items():
            assert column in touched[row]
        assert set(valid[LABEL].unique()) <= {0, 1}
        try:
            accept_training_leads(valid, quarantine, parameters["validation"])
        except Exception as error:  # a stop must be a one-line explanation, never a traceback
            assert _explained_cause(error) is not None, error

    check()
