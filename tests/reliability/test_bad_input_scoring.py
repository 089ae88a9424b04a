"""Broken exports through the registered scoring model, in process: the served and batch core.

Each export is written to disk and read back by the project's reader, so the file format is under
test too. Every case either scores with read = scored + quarantined and a reason on every
quarantined row, or stops with a message naming the column, the rule and an example.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from lead_scoring.cli import _explained_cause
from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.datasets.raw_leads_dataset import NULL_TOKENS
from lead_scoring.errors import EmptyExportError, MissingColumnsError
from tests.reliability.conftest import (
    INDEX,
    LABEL,
    assert_every_row_accounted,
    load_export,
    score,
    write_export,
)

N_LEADS = 120
CATEGORIES = ["city_mapped", "first_platform_c", "first_utm_medium_c", "first_utm_source_c"]
# Whole days: the value names a test case, and every test worker must collect the same cases.
FUTURE = (pd.Timestamp.now().normalize() + pd.Timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")


def user_message(error: BaseException) -> str:
    """The line `kedro run` prints for this error, without `Error: `."""
    cause = _explained_cause(error)
    assert cause is not None, f"{type(error).__name__} would print a traceback: {error}"
    return str(cause)


@pytest.fixture(scope="module")
def leads(export_cells) -> pd.DataFrame:
    """Unlabelled leads as text cells."""
    return export_cells.drop(columns=LABEL).head(N_LEADS).reset_index(drop=True)


@pytest.fixture(scope="module")
def clean_scores(scoring_model, leads, tmp_path_factory) -> pd.DataFrame:
    path = write_export(leads, tmp_path_factory.mktemp("clean") / "leads.csv")
    raw = load_export(path)
    scores = score(scoring_model, raw)
    assert_every_row_accounted(raw, scores)
    assert (scores["status"] == "scored").all()
    return scores


def score_file(model, path) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = load_export(path)
    scores = score(model, raw)
    assert_every_row_accounted(raw, scores)
    return raw, scores


# --- file formats: the same leads, the same scores -----------------------------------------


def _with_unknown_columns(leads: pd.DataFrame, path):
    extra = {"utm_campaign": "spring sale; 20% off", "notes": "call after 6", "Unnamed: 46": "x"}
    write_export(leads.assign(**extra), path)


def _padded_headers(leads: pd.DataFrame, path):
    write_export(leads.rename(columns=lambda c: f" {c} " if c != INDEX else c), path)


FORMATS = {
    "utf8_bom": lambda leads, path: write_export(leads, path, bom=True),
    "windows_line_endings": lambda leads, path: write_export(leads, path, line_end="\r\n"),
    "semicolon_separated": lambda leads, path: write_export(leads, path, sep=";"),
    "tab_separated": lambda leads, path: write_export(leads, path, sep="\t"),
    "bom_semicolon_crlf": lambda leads, path: write_export(
        leads, path, sep=";", line_end="\r\n", bom=True
    ),
    # What a spreadsheet saves as "Unicode text": UTF-16 with its BOM, tab-separated.
    "utf16_spreadsheet_text": lambda leads, path: write_export(
        leads, path, sep="\t", encoding="utf-16"
    ),
    "every_cell_quoted": lambda leads, path: write_export(leads, path, quoting=csv.QUOTE_ALL),
    "shuffled_column_order": lambda leads, path: write_export(
        leads[list(np.random.default_rng(3).permutation(leads.columns))], path
    ),
    "extra_unknown_columns": _with_unknown_columns,
    "padded_header_names": _padded_headers,
}


@pytest.mark.parametrize("variant", FORMATS)
def test_an_odd_file_format_scores_like_the_plain_export(
    variant, scoring_model, leads, clean_scores, tmp_path
):
    path = tmp_path / "leads.csv"
    FORMATS[variant](leads, path)
    _, scores = score_file(scoring_model, path)
    pd.testing.assert_frame_equal(scores, clean_scores)


# --- stops: nothing to score -----------------------------------------------------------------


def test_a_missing_column_stops_naming_it_and_the_columns_that_did_not_match(
    scoring_model, leads, tmp_path
):
    renamed = leads.rename(columns={"referred_lead": "Referred Lead"}).drop(columns="syllabus")
    raw = load_export(write_export(renamed, tmp_path / "leads.csv"))
    with pytest.raises(Exception) as caught:  # whichever type, its message must explain
        score(scoring_model, raw)
    message = user_message(caught.value)
    assert isinstance(_explained_cause(caught.value), MissingColumnsError)
    assert "lacks 2 required column(s): referred_lead, syllabus" in message
    assert "'Referred Lead'" in message


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("content", [b"", b"\r\n\r\n", "\ufeff".encode(), b"\xff\xfe"])
def test_an_empty_file_stops_saying_so(content, chunked, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="is empty: it has no header row"):
        RawLeadsDataset(filepath=str(path), chunked=chunked).load()


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_header_only_file_stops_saying_there_are_no_leads(
    line_end, scoring_model, leads, tmp_path
):
    raw = load_export(write_export(leads.head(0), tmp_path / "leads.csv", line_end=line_end))
    assert raw.empty and len(raw.columns) == len(leads.columns)
    with pytest.raises(Exception) as caught:  # whichever type, its message must explain
        score(scoring_model, raw)
    assert isinstance(_explained_cause(caught.value), EmptyExportError)
    assert "has a header but no leads" in user_message(caught.value)


def _cut_short(text: str) -> str:
    """A copy that stopped halfway through its last row."""
    return text[: len(text) - len(text.splitlines()[-1]) // 2 - 1]


def _bare_carriage_return(text: str) -> str:
    """A value holding an unquoted line break: the row breaks in two."""
    lines = text.split("\n")
    lines[3] = lines[3].replace(",", ",\r", 2)
    return "\n".join(lines)


def _extra_field(text: str) -> str:
    lines = text.split("\n")
    lines[3] += ",surplus"
    return "\n".join(lines)


@pytest.mark.parametrize("damage", [_cut_short, _bare_carriage_return, _extra_field])
def test_a_row_of_the_wrong_width_stops_naming_the_line_and_showing_it(damage, leads, tmp_path):
    path = write_export(leads, tmp_path / "leads.csv")
    path.write_text(damage(path.read_text()), newline="")
    with pytest.raises(
        DatasetError, match=r"line \d+ has \d+ field\(s\) where the header has 45: '"
    ):
        load_export(path)


# --- the batch reader: `kedro run --pipeline=batch_scoring` reads exports a chunk at a time ---------


def read_in_chunks(path, rows: int = 50) -> pd.DataFrame:
    export = RawLeadsDataset(filepath=str(path), chunked=True).load()
    return pd.concat([chunk.leads for chunk in export.read(rows)])


@pytest.mark.parametrize("variant", FORMATS)
def test_the_batch_reader_reads_every_format_as_the_scoring_core_does(variant, leads, tmp_path):
    path = tmp_path / "leads.csv"
    FORMATS[variant](leads, path)
    chunked = read_in_chunks(path)
    assert chunked.index.tolist() == list(range(len(leads)))
    pd.testing.assert_frame_equal(
        chunked.astype(object), load_export(path).astype(object), check_index_type=False
    )


def test_the_batch_reader_reads_null_spellings_as_the_scoring_core_does(leads, tmp_path):
    spelled = leads.copy()
    for row, token in enumerate(NULL_TOKENS):
        spelled.loc[row, "syllabus"] = token
    path = write_export(spelled, tmp_path / "leads.csv")
    assert load_export(path)["syllabus"].head(len(NULL_TOKENS)).isna().all()
    pd.testing.assert_frame_equal(
        read_in_chunks(path).astype(object),
        load_export(path).astype(object),
        check_index_type=False,
    )


@pytest.mark.parametrize("damage", [_cut_short, _bare_carriage_return])
def test_the_batch_reader_stops_on_a_row_of_the_wrong_width(damage, leads, tmp_path):
    path = write_export(leads, tmp_path / "leads.csv")
    path.write_text(damage(path.read_text()), newline="")
    with pytest.raises(DatasetError, match=r"line \d+ has \d+ field\(s\) where the header has 45"):
        read_in_chunks(path)


# --- one broken cell per row: that row is quarantined with its reason, the others score -------

# (column, written value, rule in the reason, or None when the lead must be scored)
CELLS = [
    ("created_date", "2021-13-45 10:00:00", "timestamp %Y-%m-%d %H:%M:%S"),
    ("created_date", "yesterday", "timestamp %Y-%m-%d %H:%M:%S"),
    ("created_date", "26/08/2021 15:26", "timestamp %Y-%m-%d %H:%M:%S"),
    ("created_date", "2021-08-26", "timestamp %Y-%m-%d %H:%M:%S"),
    ("created_date", FUTURE, "date between 2015-01-01 and"),
    ("created_date", "1999-12-31 23:59:59", "date between 2015-01-01 and"),
    ("created_date", "", "required value"),
    ("total_leads_droppped", "-1", "whole number 0-1000"),
    ("total_leads_droppped", "2.5", "whole number 0-1000"),
    ("total_leads_droppped", "1e12", "whole number 0-1000"),
    ("total_leads_droppped", "99999999999999999999999", "whole number 0-1000"),
    ("total_leads_droppped", "inf", "whole number 0-1000"),
    ("total_leads_droppped", "-Infinity", "whole number 0-1000"),
    ("total_leads_droppped", "three", "whole number 0-1000"),
    ("total_leads_droppped", "3 courses", "whole number 0-1000"),
    ("total_leads_droppped", "", None),
    ("total_leads_droppped", "4.0", None),
    ("syllabus", "-3", "whole number 0-100000"),
    ("syllabus", "0.5", "whole number 0-100000"),
    ("syllabus", "1e6", "whole number 0-100000"),
    ("syllabus", "inf", "whole number 0-100000"),
    ("syllabus", "12 clicks", "whole number 0-100000"),
    ("syllabus", "7", None),
    ("referred_lead", "2", "flag 0 or 1"),
    ("referred_lead", "-1", "flag 0 or 1"),
    ("referred_lead", "0.5", "flag 0 or 1"),
    ("referred_lead", "yes", "flag 0 or 1"),
    ("referred_lead", "inf", "flag 0 or 1"),
    ("referred_lead", "1.0", None),
    ("referred_lead", "", None),
    ("first_platform_c", "Platform X", "matches LevelN"),
    ("first_platform_c", "Level-7", "matches LevelN"),
    ("first_utm_source_c", "google", "matches LevelN"),
    ("first_platform_c", "Level999", None),
    ("first_utm_medium_c", "level7", None),
    ("first_utm_source_c", " LEVEL 2 ", None),
    ("city_mapped", "atlantis", None),
    ("city_mapped", "  MUMBAI  ", None),
    ("city_mapped", "", None),
]


def cell_id(case) -> str:
    column, value, rule = case
    return f"{column}={value.strip() or 'blank'}->{'scored' if rule is None else 'quarantined'}"


@pytest.fixture(scope="module")
def broken_cells(scoring_model, leads, tmp_path_factory):
    """One batch in which row ``i`` carries ``CELLS[i]``: a single scoring call for all cases."""
    assert len(CELLS) < len(leads)
    broken = leads.copy()
    for row, (column, value, _) in enumerate(CELLS):
        broken.loc[row, column] = value
    path = write_export(broken, tmp_path_factory.mktemp("cells") / "leads.csv")
    return score_file(scoring_model, path)


@pytest.mark.parametrize("row", range(len(CELLS)), ids=[cell_id(case) for case in CELLS])
def test_a_broken_cell_quarantines_its_row_with_column_rule_and_value(row, broken_cells):
    _, scores = broken_cells
    column, value, rule = CELLS[row]
    lead = scores.loc[row]
    if rule is None:
        assert lead["status"] == "scored", lead["quarantine_reason"]
        return
    assert lead["status"] == "quarantined"
    reason = lead["quarantine_reason"]
    shown = value.strip() or "<empty>"
    assert reason.startswith(f"{column}: {rule}"), reason
    assert f"(got {shown})" in reason or (shown == "<empty>" and "got nan" in reason), reason


def test_broken_cells_leave_the_other_leads_scores_alone(broken_cells, clean_scores):
    _, scores = broken_cells
    untouched = range(len(CELLS), len(scores))
    pd.testing.assert_frame_equal(scores.loc[untouched], clean_scores.loc[untouched])


def test_a_date_that_is_not_a_timestamp_gets_one_reason_not_two(broken_cells):
    _, scores = broken_cells
    reason = scores.loc[1, "quarantine_reason"]
    assert reason == "created_date: timestamp %Y-%m-%d %H:%M:%S (got yesterday)"


# --- categories: spelling does not change a score; unseen values still score ----------------


def test_whitespace_and_upper_case_in_categories_score_like_the_canonical_spelling(
    scoring_model, leads, clean_scores, tmp_path
):
    messy = leads.copy()
    messy["city_mapped"] = "  " + messy["city_mapped"].str.upper() + " "
    for level in CATEGORIES[1:]:
        messy[level] = " " + messy[level].str.replace("Level", "LEVEL ", regex=False) + "\t"
    _, scores = score_file(scoring_model, write_export(messy, tmp_path / "messy.csv"))
    pd.testing.assert_frame_equal(scores, clean_scores)


def test_unknown_levels_and_cities_score_as_the_rare_bucket(scoring_model, leads, tmp_path):
    scores = {}
    for name, level, city in [("a", "Level998", "atlantis"), ("b", "Level999", "el dorado")]:
        unseen = leads.assign(
            first_platform_c=level,
            first_utm_medium_c=level,
            first_utm_source_c=level,
            city_mapped=city,
        )
        _, scores[name] = score_file(scoring_model, write_export(unseen, tmp_path / f"{name}.csv"))
    assert (scores["a"]["status"] == "scored").all()
    # Two different unseen spellings are the same lead to the model: the rare bucket.
    columns = ["probability", "score", "tier", *[f"reason_{k}" for k in (1, 2, 3)]]
    pd.testing.assert_frame_equal(scores["a"][columns], scores["b"][columns])


# --- batches of one and batches of nothing valid ---------------------------------------------


def test_a_batch_where_every_row_is_invalid_is_all_quarantined(scoring_model, leads, tmp_path):
    broken = leads.assign(created_date="not a date")
    _, scores = score_file(scoring_model, write_export(broken, tmp_path / "leads.csv"))
    assert (scores["status"] == "quarantined").all()
    assert scores["quarantine_reason"].str.startswith("created_date: timestamp").all()
    assert scores["probability"].isna().all()


def test_a_one_row_batch_scores_like_the_same_lead_in_a_big_batch(
    scoring_model, leads, clean_scores, tmp_path
):
    _, scores = score_file(scoring_model, write_export(leads.iloc[[7]], tmp_path / "one.csv"))
    pd.testing.assert_frame_equal(
        scores.reset_index(drop=True), clean_scores.iloc[[7]].reset_index(drop=True)
    )


def test_a_one_row_batch_with_a_broken_row_is_quarantined(scoring_model, leads, tmp_path):
    one = leads.iloc[[7]].assign(referred_lead="maybe")
    _, scores = score_file(scoring_model, write_export(one, tmp_path / "one.csv"))
    assert scores["status"].tolist() == ["quarantined"]
    assert scores["quarantine_reason"].tolist() == ["referred_lead: flag 0 or 1 (got maybe)"]
