import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from lead_scoring.contract import CITY, raw_columns
from lead_scoring.errors import EmptyExportError, MissingColumnsError, TooManyInvalidRowsError
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.validation.nodes import accept_training_leads, validate_raw_leads
from lead_scoring.pipelines.validation.schemas import (
    RuleLimits,
    parse_leads,
    raw_lead_schema,
    rows_breaking_rules,
)


@pytest.fixture
def leads(raw_leads, interaction_mapping, parameters):
    return normalise_raw_leads(raw_leads, interaction_mapping, parameters["ingestion"])


def test_a_clean_export_passes_typed(leads, interaction_mapping, parameters):
    valid, quarantine = validate_raw_leads(
        leads, interaction_mapping, parameters["validation"], True
    )
    assert quarantine.empty
    assert len(valid) == len(leads)
    assert pd.api.types.is_datetime64_any_dtype(valid["created_date"])
    assert valid["syllabus"].dtype == "float32"
    assert set(valid["app_complete_flag"].unique()) <= {0, 1}


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("total_leads_droppped", "many", "whole number"),
        ("total_leads_droppped", "-1", "whole number"),
        ("syllabus", "2.5", "whole number"),
        ("syllabus", "inf", "whole number"),
        ("syllabus", "1e12", "whole number"),
        ("referred_lead", "2", "flag 0 or 1"),
        ("first_platform_c", "mobile", "matches LevelN"),
        ("created_date", "26/08/2021 15:26", "timestamp"),
        ("created_date", "2999-01-01 00:00:00", "date between"),
        ("created_date", None, "required value"),
        ("app_complete_flag", "yes", "label 0 or 1"),
    ],
)
def test_a_bad_cell_quarantines_its_row_with_column_rule_and_value(
    leads, interaction_mapping, parameters, column, value, rule
):
    broken = leads.copy()
    broken.loc[5, column] = value
    valid, quarantine = validate_raw_leads(
        broken, interaction_mapping, parameters["validation"], True
    )
    assert quarantine.index.tolist() == [5]
    record = quarantine.loc[5]
    assert record["column"] == column
    assert rule in record["rule"]
    assert record["lead_id"] == leads.loc[5, "lead_id"]
    assert column in record["reason"]
    assert len(valid) + len(quarantine) == len(leads)
    assert 5 not in valid.index


def test_every_failure_of_a_row_is_spelled_out(leads, interaction_mapping, parameters):
    broken = leads.copy()
    broken.loc[0, ["referred_lead", "first_utm_source_c"]] = ["7", "google"]
    _, quarantine = validate_raw_leads(broken, interaction_mapping, parameters["validation"], True)
    assert "referred_lead" in quarantine.loc[0, "reason"]
    assert "first_utm_source_c" in quarantine.loc[0, "reason"]


def test_a_missing_column_stops_with_the_column_names(leads, interaction_mapping, parameters):
    with pytest.raises(MissingColumnsError, match="referred_lead, syllabus"):
        validate_raw_leads(
            leads.drop(columns=["referred_lead", "syllabus"]),
            interaction_mapping,
            parameters["validation"],
            True,
        )


def test_the_label_is_required_for_training_only(leads, interaction_mapping, parameters):
    unlabelled = leads.drop(columns="app_complete_flag")
    with pytest.raises(MissingColumnsError, match="app_complete_flag"):
        validate_raw_leads(unlabelled, interaction_mapping, parameters["validation"], True)
    valid, _ = validate_raw_leads(unlabelled, interaction_mapping, parameters["validation"], False)
    assert len(valid) == len(leads)


def test_a_header_only_export_stops(leads, interaction_mapping, parameters):
    with pytest.raises(EmptyExportError, match="no leads"):
        validate_raw_leads(leads.head(0), interaction_mapping, parameters["validation"], True)


def test_too_many_invalid_rows_stop_training_with_an_example(
    leads, interaction_mapping, parameters
):
    broken = leads.copy()
    broken.loc[: len(leads) // 10, "referred_lead"] = "maybe"
    valid, quarantine = validate_raw_leads(
        broken, interaction_mapping, parameters["validation"], True
    )
    with pytest.raises(TooManyInvalidRowsError, match=r"referred_lead: flag 0 or 1 \(got maybe\)"):
        accept_training_leads(valid, quarantine, parameters["validation"])


def test_exact_duplicates_are_dropped_and_counted(leads, interaction_mapping, parameters):
    copies = leads.head(4).assign(lead_id=["a", "b", "c", "d"])
    doubled = pd.concat([leads, copies], ignore_index=True)
    valid, quarantine = validate_raw_leads(
        doubled, interaction_mapping, parameters["validation"], True
    )
    already = int(leads.drop(columns="lead_id").duplicated().sum())
    clean, summary, metrics = accept_training_leads(valid, quarantine, parameters["validation"])
    assert summary["duplicates_removed"] == already + 4
    assert summary["rows_kept"] == len(clean) == len(doubled) - already - 4
    assert summary["rows_read"] == summary["rows_valid"] + summary["rows_quarantined"]
    assert metrics["rows_read"] == {"value": float(len(doubled)), "step": 0}


def test_the_vectorised_screen_flags_exactly_the_rows_pandera_fails(
    leads, interaction_mapping, parameters
):
    columns = [
        "syllabus",
        "referred_lead",
        "first_platform_c",
        "created_date",
        "city_mapped",
        "total_leads_droppped",
        "app_complete_flag",
    ]
    bad_values = [
        *["-3", "0.5", "yes", "Level 7x", "2999-01-01 00:00:00", "13/01/2021", None, " "],
        *["NaN", "inf", "1e12", "2", "1"],
    ]
    rng = np.random.default_rng(11)
    broken = leads.copy()
    for row in rng.choice(len(leads), size=60, replace=False):
        broken.loc[row, rng.choice(columns)] = rng.choice(bad_values)
    interaction_columns = tuple(interaction_mapping["interaction_type"])
    limits = RuleLimits.from_parameters(parameters["validation"], today=pd.Timestamp.now())
    try:
        raw_lead_schema(interaction_columns, limits, with_label=True).validate(broken, lazy=True)
        failing = set()
    except pa.errors.SchemaErrors as errors:
        failing = set(errors.failure_cases["index"].dropna().astype(int))
    parsed = parse_leads(broken, interaction_columns)
    flagged = set(np.flatnonzero(rows_breaking_rules(parsed, interaction_columns, limits)))
    assert failing and flagged == failing


def test_the_kept_rows_carry_their_own_parsed_values(leads, interaction_mapping, parameters):
    broken = leads.copy()
    broken.loc[3, "syllabus"] = "many"
    broken.loc[7, "created_date"] = "yesterday"

    valid, quarantine = validate_raw_leads(
        broken, interaction_mapping, parameters["validation"], True
    )

    assert sorted(quarantine.index) == [3, 7]
    kept = leads.drop(index=[3, 7])
    assert valid.index.equals(kept.index)
    for column in ["syllabus", "total_leads_droppped", "referred_lead"]:
        expected = pd.to_numeric(kept[column]).astype("float32")
        pd.testing.assert_series_equal(valid[column], expected, check_names=False)
    expected_dates = pd.to_datetime(kept["created_date"], format="%Y-%m-%d %H:%M:%S")
    assert (valid["created_date"] == expected_dates).all()
    assert valid["lead_id"].tolist() == kept["lead_id"].tolist()
    assert (valid["app_complete_flag"] == pd.to_numeric(kept["app_complete_flag"])).all()


def test_the_schema_declares_each_ruled_column_with_limits_from_the_parameters(
    interaction_mapping, parameters
):
    interaction_columns = tuple(interaction_mapping["interaction_type"])
    rules = {**parameters["validation"], "max_leads_dropped": 7}
    limits = RuleLimits.from_parameters(rules, today=pd.Timestamp("2026-03-01 15:00"))
    schema = raw_lead_schema(interaction_columns, limits, with_label=True)

    ruled = [c for c in raw_columns(interaction_columns, with_label=True) if c != CITY]
    assert list(schema.columns) == ruled
    checks = {
        name: [check.error or check.name for check in column.checks]
        for name, column in schema.columns.items()
    }
    assert checks["total_leads_droppped"] == ["whole number 0-7"]
    assert checks["created_date"][1] == "date between 2015-01-01 and 2026-03-02"
    assert not schema.columns["created_date"].nullable
    assert schema.columns["syllabus"].nullable
