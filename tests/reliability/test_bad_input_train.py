"""Broken training exports through the train pipeline's gate, in process: the reader, ingestion,
validation and acceptance nodes, which decide what a model is fitted on.

Every case either keeps rows with read = kept + duplicates + quarantined and a reason on every
quarantined row, or stops with a message naming the column, the rule and an example value.
"""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DatasetError

from lead_scoring.contract import QUARANTINE_COLUMNS
from lead_scoring.errors import (
    EmptyExportError,
    MissingColumnsError,
    TooFewLeadsError,
    TooManyInvalidRowsError,
)
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.validation.nodes import accept_training_leads, validate_raw_leads
from tests.reliability.conftest import INDEX, LABEL, load_export, read_cells, write_export
from tests.reliability.test_bad_input_scoring import CATEGORIES, CELLS, FORMATS, cell_id

N_LEADS = 1_000

# (written label, rule in the reason, or None when the lead is kept)
LABELS = [
    ("2", "label 0 or 1"),
    ("-1", "label 0 or 1"),
    ("0.5", "label 0 or 1"),
    ("yes", "label 0 or 1"),
    ("inf", "label 0 or 1"),
    ("", "required value"),
    ("1.0", None),
    (" 0 ", None),
]


@pytest.fixture(scope="module")
def labelled(small_export) -> pd.DataFrame:
    cells = read_cells(small_export, nrows=N_LEADS)
    return cells.assign(**{INDEX: "lead-" + cells[INDEX]})


def train_gate(raw: pd.DataFrame, interaction_mapping, parameters) -> dict:
    """What the train pipeline's first nodes make of an export: every dataset by name."""
    leads = normalise_raw_leads(raw, interaction_mapping, parameters["ingestion"])
    valid, quarantine = validate_raw_leads(
        leads,
        interaction_mapping,
        parameters["validation"],
        parameters["training"]["label_required"],
    )
    clean, summary, _ = accept_training_leads(valid, quarantine, parameters["validation"])
    return {
        "raw": raw,
        "valid": valid,
        "quarantine": quarantine,
        "clean": clean,
        "summary": summary,
    }


def assert_every_row_accounted(gate: dict) -> None:
    summary, quarantine = gate["summary"], gate["quarantine"]
    assert summary["rows_read"] == len(gate["raw"])
    assert summary["rows_read"] == summary["rows_valid"] + summary["rows_quarantined"]
    assert summary["rows_kept"] == summary["rows_valid"] - summary["duplicates_removed"]
    assert len(gate["clean"]) == summary["rows_kept"]
    assert quarantine.columns.tolist() == QUARANTINE_COLUMNS
    assert quarantine["reason"].str.len().gt(0).all()
    assert set(quarantine.index).isdisjoint(gate["valid"].index)


@pytest.fixture(scope="module")
def clean_gate(labelled, interaction_mapping, parameters, tmp_path_factory) -> dict:
    path = write_export(labelled, tmp_path_factory.mktemp("clean") / "leads.csv")
    gate = train_gate(load_export(path), interaction_mapping, parameters)
    assert_every_row_accounted(gate)
    assert gate["quarantine"].empty
    return gate


def gate_for(frame, path, interaction_mapping, parameters) -> dict:
    gate = train_gate(load_export(write_export(frame, path)), interaction_mapping, parameters)
    assert_every_row_accounted(gate)
    return gate


# --- file formats: the same leads are kept ---------------------------------------------------


@pytest.mark.parametrize("variant", FORMATS)
def test_an_odd_file_format_keeps_the_same_leads(
    variant, labelled, clean_gate, interaction_mapping, parameters, tmp_path
):
    path = tmp_path / "leads.csv"
    FORMATS[variant](labelled, path)
    gate = train_gate(load_export(path), interaction_mapping, parameters)
    assert_every_row_accounted(gate)
    pd.testing.assert_frame_equal(gate["clean"], clean_gate["clean"])


def test_whitespace_and_upper_case_in_categories_keep_the_canonical_spelling(
    labelled, clean_gate, interaction_mapping, parameters, tmp_path
):
    messy = labelled.copy()
    messy["city_mapped"] = " " + messy["city_mapped"].str.upper() + "  "
    for level in CATEGORIES[1:]:
        messy[level] = messy[level].str.lower().str.replace("level", "level ") + " "
    gate = gate_for(messy, tmp_path / "leads.csv", interaction_mapping, parameters)
    pd.testing.assert_frame_equal(gate["clean"], clean_gate["clean"])


# --- broken cells and labels: quarantined with their reason, the rest kept -------------------

TRAIN_CELLS = [*CELLS, *((LABEL, value, rule) for value, rule in LABELS)]


@pytest.fixture(scope="module")
def broken_gate(labelled, interaction_mapping, parameters, tmp_path_factory) -> dict:
    """One export in which row ``i`` carries ``TRAIN_CELLS[i]``."""
    broken = labelled.copy()
    for row, (column, value, _) in enumerate(TRAIN_CELLS):
        broken.loc[row, column] = value
    return gate_for(
        broken, tmp_path_factory.mktemp("cells") / "leads.csv", interaction_mapping, parameters
    )


@pytest.mark.parametrize(
    "row", range(len(TRAIN_CELLS)), ids=[cell_id(case) for case in TRAIN_CELLS]
)
def test_a_broken_cell_quarantines_its_row_with_column_rule_and_value(row, broken_gate):
    column, value, rule = TRAIN_CELLS[row]
    quarantine = broken_gate["quarantine"]
    if rule is None:
        assert row not in quarantine.index, quarantine.loc[row, "reason"]
        assert row in broken_gate["valid"].index
        return
    record = quarantine.loc[row]
    assert (record["row"], record["column"]) == (row, column)
    assert record["rule"].startswith(rule)
    assert record["lead_id"] == broken_gate["raw"].iloc[row, 0]
    shown = value.strip() or "<empty>"
    assert record["reason"].startswith(f"{column}: {rule}")
    assert f"(got {shown})" in record["reason"] or (
        shown == "<empty>" and "got nan" in record["reason"]
    )


def test_only_broken_rows_are_quarantined_and_kept_labels_are_0_or_1(broken_gate, clean_gate):
    expected = {row for row, (_, _, rule) in enumerate(TRAIN_CELLS) if rule is not None}
    assert set(broken_gate["quarantine"].index) == expected
    assert set(broken_gate["clean"][LABEL].unique()) <= {0, 1}
    untouched = clean_gate["clean"].index.difference(range(len(TRAIN_CELLS)))
    pd.testing.assert_frame_equal(
        broken_gate["clean"].loc[untouched], clean_gate["clean"].loc[untouched]
    )


def test_unknown_levels_and_cities_are_kept(labelled, interaction_mapping, parameters, tmp_path):
    unseen = labelled.assign(first_platform_c="Level999", city_mapped="atlantis")
    gate = gate_for(unseen, tmp_path / "leads.csv", interaction_mapping, parameters)
    assert gate["quarantine"].empty
    assert (gate["clean"]["first_platform_c"] == "Level999").all()


# --- stops: a message naming the column, the rule and an example -----------------------------


def test_labels_other_than_0_or_1_in_too_many_rows_stop_training(
    labelled, interaction_mapping, parameters, tmp_path
):
    broken = labelled.copy()
    broken.loc[::10, LABEL] = "2"  # 10% of the rows
    with pytest.raises(TooManyInvalidRowsError) as caught:
        gate_for(broken, tmp_path / "leads.csv", interaction_mapping, parameters)
    message = str(caught.value)
    assert f"100 of {N_LEADS} leads (10.0%) failed validation, more than the allowed 5%" in message
    assert "Example: row 0, app_complete_flag: label 0 or 1 (got 2)." in message


def test_an_export_where_every_row_is_invalid_stops_training(
    labelled, interaction_mapping, parameters, tmp_path
):
    broken = labelled.assign(total_leads_droppped="-1")
    with pytest.raises(TooManyInvalidRowsError) as caught:
        gate_for(broken, tmp_path / "leads.csv", interaction_mapping, parameters)
    assert f"{N_LEADS} of {N_LEADS} leads (100.0%) failed validation" in str(caught.value)
    assert "total_leads_droppped: whole number 0-1000 (got -1)" in str(caught.value)


def test_up_to_the_allowed_share_of_broken_rows_trains(
    labelled, interaction_mapping, parameters, tmp_path
):
    broken = labelled.copy()
    broken.loc[::20, "referred_lead"] = "maybe"  # exactly 5%
    gate = gate_for(broken, tmp_path / "leads.csv", interaction_mapping, parameters)
    assert gate["summary"]["rows_quarantined"] == N_LEADS // 20


@pytest.mark.parametrize(
    ("dropped", "message"),
    [
        (LABEL, "lacks 1 required column(s): app_complete_flag."),
        ("created_date", "lacks 1 required column(s): created_date."),
        ("whatsapp_chat_click", "lacks 1 required column(s): whatsapp_chat_click."),
    ],
)
def test_a_missing_column_stops_training_naming_it(
    dropped, message, labelled, interaction_mapping, parameters, tmp_path
):
    with pytest.raises(MissingColumnsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gate_for(
            labelled.drop(columns=dropped), tmp_path / "leads.csv", interaction_mapping, parameters
        )


def test_an_empty_file_stops_training(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="is empty: it has no header row"):
        load_export(path)


def test_a_header_only_file_stops_training(labelled, interaction_mapping, parameters, tmp_path):
    with pytest.raises(EmptyExportError, match="has a header but no leads"):
        gate_for(labelled.head(0), tmp_path / "leads.csv", interaction_mapping, parameters)


@pytest.mark.parametrize(
    ("rows", "counts"),
    [
        (slice(0, 1), None),
        ("ones", "with app_complete_flag 0"),
    ],
    ids=["one_row", "one_outcome_only"],
)
def test_too_few_leads_of_an_outcome_stop_training(
    rows, counts, labelled, interaction_mapping, parameters, tmp_path
):
    frame = labelled[labelled[LABEL] == "1"] if rows == "ones" else labelled.iloc[rows]
    with pytest.raises(TooFewLeadsError) as caught:
        gate_for(frame, tmp_path / "leads.csv", interaction_mapping, parameters)
    message = str(caught.value)
    assert "training needs at least 100 of each outcome" in message
    assert "app_complete_flag" in message
    if counts:
        assert f"and 0 {counts}" in message
