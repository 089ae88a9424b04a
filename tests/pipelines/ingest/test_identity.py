"""Who a lead is: keys of delivered files as real feeds write them, made here with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lead_scoring.contract import KEY_COLUMNS, natural_lead_keys
from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.errors import LeadKeyCollisionError, UnkeyedOutcomesError
from lead_scoring.pipelines.ingest.lead_files import (
    is_outcome_export,
    read_landing_export,
    read_lead_file,
)
from tests.conftest import REAL_EXPORT, REAL_LABELLED, needs_shared

LABEL = "app_complete_flag"
INDEX = "Unnamed: 0"
N = 400


@pytest.fixture
def leads(raw_leads) -> pd.DataFrame:
    """The generated leads as a data frame a feed holds: no index column, default index."""
    return raw_leads.drop(columns=[INDEX]).reset_index(drop=True)


@pytest.fixture
def read(parameters, interaction_mapping):
    """Reads a delivered file from disk as ingest does."""

    def read(path: Path):
        raw = RawLeadsDataset(filepath=str(path)).load()
        return read_landing_export(
            path.name, raw, interaction_mapping, parameters["ingestion"], parameters["validation"]
        )

    return read


def delivered(path: Path, frame: pd.DataFrame, index: bool = True) -> Path:
    """``frame`` written as pandas' ``to_csv`` writes it: with its index unless told not to."""
    frame.to_csv(path, index=index)
    return path


def crm_ids(count: int, start: int = 0) -> list[str]:
    return [f"CRM-{n:06d}" for n in range(start, start + count)]


def test_two_daily_pandas_exports_keep_every_lead(tmp_path, leads, read):
    first_day = leads.iloc[:N].drop(columns=[LABEL]).reset_index(drop=True)
    second_day = leads.iloc[N : 2 * N].drop(columns=[LABEL]).reset_index(drop=True)
    first = read(delivered(tmp_path / "day1.csv", first_day))
    second = read(delivered(tmp_path / "day2.csv", second_day))
    # Both files number their rows 0 to N-1: the index says nothing of who a lead is.
    assert (tmp_path / "day2.csv").read_text().splitlines()[1].startswith("0,")
    keys = pd.concat([first.leads["lead_id"], second.leads["lead_id"]])
    assert len(first.leads) == len(second.leads) == N
    assert keys.nunique() == 2 * N


def test_a_crm_export_is_keyed_by_its_lead_id_beside_pandas_index(tmp_path, leads, read, caplog):
    export = leads.iloc[:N].drop(columns=[LABEL])
    export.insert(0, "lead_id", crm_ids(N, start=500))
    read_file = read(delivered(tmp_path / "crm.csv", export))
    assert read_file.leads["lead_id"].tolist() == crm_ids(N, start=500)
    assert len(read_file.quarantine) == 0
    assert "unknown column" not in caplog.text


@pytest.mark.parametrize("with_index", [True, False], ids=["outcomes with index", "plain"])
def test_outcomes_find_their_leads_by_lead_id(tmp_path, leads, read, with_index):
    export = leads.iloc[:N].drop(columns=[LABEL])
    export.insert(0, "lead_id", crm_ids(N))
    lead_file = read(delivered(tmp_path / "leads.csv", export, index=False))
    # Outcomes come back in another order, with the CRM's ids and pandas' own row numbers.
    outcomes = pd.DataFrame({"lead_id": crm_ids(N), LABEL: leads[LABEL].iloc[:N].to_numpy()})
    outcomes = outcomes.sample(frac=1, random_state=3).reset_index(drop=True)
    outcome_file = read(delivered(tmp_path / "outcomes.csv", outcomes, index=with_index))
    assert len(outcome_file.leads) == 0 and len(outcome_file.quarantine) == 0
    assert set(outcome_file.outcomes["lead_id"]) == set(lead_file.leads["lead_id"])
    labels = outcome_file.outcomes.set_index("lead_id")[LABEL]
    expected = pd.Series(leads[LABEL].iloc[:N].astype(int).to_numpy(), index=crm_ids(N))
    assert (labels.loc[expected.index] == expected).all()


def test_the_same_leads_resent_without_the_index_get_the_same_keys(tmp_path, leads, read):
    export = leads.iloc[:N].drop(columns=[LABEL]).reset_index(drop=True)
    with_index = read(delivered(tmp_path / "a.csv", export))
    resent = export.iloc[::-1].reset_index(drop=True)
    without_index = read(delivered(tmp_path / "b.csv", resent, index=False))
    first = with_index.leads.set_index("lead_id").sort_index()
    again = without_index.leads.set_index("lead_id").sort_index()
    pd.testing.assert_frame_equal(first, again)
    assert first.index.str.match(r"^k[0-9a-f]{20}$").all()


def test_spelling_does_not_change_a_natural_key(tmp_path, leads, read):
    export = leads.iloc[:50].drop(columns=[LABEL]).reset_index(drop=True)
    messy = export.assign(
        city_mapped=" " + export["city_mapped"].str.upper() + " ",
        first_platform_c=export["first_platform_c"].str.replace("Level", "level "),
    )
    plain = read(delivered(tmp_path / "a.csv", export))
    spelt = read(delivered(tmp_path / "b.csv", messy, index=False))
    assert plain.leads["lead_id"].tolist() == spelt.leads["lead_id"].tolist()


def test_blank_and_malformed_ids_are_quarantined_with_their_lines(tmp_path, leads, read):
    export = leads.iloc[:20].drop(columns=[LABEL]).reset_index(drop=True)
    export.insert(0, "lead_id", crm_ids(20))
    export["lead_id"] = export["lead_id"].astype(object)
    export.loc[3, "lead_id"] = None
    export.loc[5, "lead_id"] = "   "
    export.loc[7, "lead_id"] = "x" * 200
    path = delivered(tmp_path / "crm.csv", export)
    # A blank line in the file: lines are counted in the file, not from the row numbers.
    text = path.read_text().splitlines()
    path.write_text("\n".join([*text[:3], "", *text[3:]]) + "\n")
    read_file = read(path)
    kept = set(crm_ids(20)) - {"CRM-000003", "CRM-000005", "CRM-000007"}
    assert set(read_file.leads["lead_id"]) == kept
    quarantine = read_file.quarantine
    assert len(read_file.leads) + quarantine["row"].notna().sum() == read_file.rows_read == 20
    by_row = quarantine.dropna(subset=["row"]).set_index("row")
    assert by_row.loc[3, "reason"] == "line 6: lead_id: required value (got <empty>)"
    assert by_row.loc[5, "reason"].startswith("line 8: lead_id: required value")
    assert by_row.loc[7, "reason"].startswith("line 10: lead_id: at most 64 characters")
    # Each quoted line is the row's own line in the file.
    lines = path.read_text().splitlines()
    assert lines[5].startswith("3,,") and lines[7].startswith("5,   ,")
    # The line is also a column of its own: a line that held no record has no row.
    assert quarantine["line"].tolist() == [4, 6, 8, 10]
    assert quarantine["row"].isna().tolist() == [True, False, False, False]
    assert quarantine["reason"].iloc[0] == "line 4: blank line: no lead"


def test_a_blank_id_in_an_outcome_export_is_quarantined_not_fatal(tmp_path, read):
    outcomes = pd.DataFrame({"lead_id": ["A1", "", "A3", "A4"], LABEL: ["1", "0", "7", "0"]})
    read_file = read(delivered(tmp_path / "outcomes.csv", outcomes))
    assert read_file.outcomes.to_dict("list") == {"lead_id": ["A1", "A4"], LABEL: [1, 0]}
    assert read_file.quarantine["reason"].tolist() == [
        "line 3: lead_id: required value (got <empty>)",
        "line 4: app_complete_flag: 0 or 1 (got 7)",
    ]


def test_quarantined_rows_of_an_export_without_ids_carry_their_key(tmp_path, leads, read):
    export = leads.iloc[:10].drop(columns=[LABEL]).reset_index(drop=True)
    export.loc[2, "referred_lead"] = "maybe"
    path = delivered(tmp_path / "a.csv", export)
    path.write_text(path.read_text() + "\n")  # a blank line at the end: no lead, no key
    read_file = read(path)
    quarantine = read_file.quarantine.set_index("reason")
    invalid = quarantine.loc[quarantine["row"].notna()].iloc[0]
    assert invalid["lead_id"] == natural_lead_keys(export.iloc[[2]]).iat[0]
    assert quarantine.index.str.match(r"^line 4: referred_lead").any()
    assert quarantine.loc["line 12: blank line: no lead", "lead_id"] is None


def test_numeric_ids_pandas_wrote_as_floats_are_the_same_ids(tmp_path, leads, read):
    export = leads.iloc[:5].drop(columns=[LABEL]).reset_index(drop=True)
    export.insert(0, "lead_id", [101, 102, None, 104, 105])  # a blank makes pandas write 101.0
    read_file = read(delivered(tmp_path / "crm.csv", export))
    assert "101.0" in (tmp_path / "crm.csv").read_text()
    assert read_file.leads["lead_id"].tolist() == ["101", "102", "104", "105"]


def test_exact_repeats_in_one_file_are_one_lead(tmp_path, leads, read):
    export = leads.iloc[:30].drop(columns=[LABEL])
    export = pd.concat([export, export.iloc[[4, 9]]]).reset_index(drop=True)
    read_file = read(delivered(tmp_path / "a.csv", export))
    assert len(read_file.leads) == 30 and read_file.leads["lead_id"].is_unique
    assert read_file.quarantine["reason"].tolist() == [
        "line 32: repeated in the same file: the same lead as line 6, stored once",
        "line 33: repeated in the same file: the same lead as line 11, stored once",
    ]


def test_two_leads_under_one_key_refuse_the_file_in_one_line(tmp_path, leads, read):
    export = leads.iloc[:30].drop(columns=[LABEL]).reset_index(drop=True)
    twin = export.iloc[[4]].assign(total_leads_droppped="9.0", syllabus="3.0")
    export = pd.concat([export, twin]).reset_index(drop=True)
    with pytest.raises(LeadKeyCollisionError) as refusal:
        read(delivered(tmp_path / "a.csv", export))
    message = str(refusal.value)
    assert "\n" not in message
    assert message.startswith("Landing file a.csv: lines 6 and 32 share a lead key (created ")
    assert "but differ in total_leads_droppped, syllabus, so the leads cannot" in message
    assert "Add a lead_id column" in message and "Nothing of the file was stored" in message


def test_one_lead_id_on_two_different_rows_refuses_the_file(tmp_path, leads, read):
    export = leads.iloc[:10].drop(columns=[LABEL]).reset_index(drop=True)
    export.insert(0, "lead_id", crm_ids(10))
    export.loc[8, "lead_id"] = "CRM-000002"
    export.loc[9, "lead_id"] = "CRM-000003"
    with pytest.raises(LeadKeyCollisionError) as refusal:
        read(delivered(tmp_path / "crm.csv", export))
    assert str(refusal.value) == (
        "Landing file crm.csv: 4 rows share 2 lead keys but differ, so the leads cannot be told "
        "apart (lines 4, 5, 10, 11); first: lines 4 and 10 share a lead key (lead_id "
        "'CRM-000002') but differ in created_date, city_mapped, first_platform_c, "
        "first_utm_medium_c, first_utm_source_c. Give each lead its own lead_id, or deliver "
        "each lead once. Nothing of the file was stored."
    )


def test_outcomes_keyed_by_the_key_columns_find_leads_without_ids(tmp_path, leads, read):
    export = leads.iloc[:N].drop(columns=[LABEL])
    lead_file = read(delivered(tmp_path / "leads.csv", export))
    outcomes = leads.iloc[:N][[*KEY_COLUMNS, LABEL]]
    outcomes = outcomes.assign(city_mapped=outcomes["city_mapped"].str.upper())
    outcome_file = read(delivered(tmp_path / "outcomes.csv", outcomes))
    assert outcome_file.outcomes["lead_id"].tolist() == lead_file.leads["lead_id"].tolist()
    assert outcome_file.outcomes[LABEL].tolist() == leads[LABEL].iloc[:N].astype(int).tolist()


def test_an_undated_outcome_keyed_by_the_key_columns_is_quarantined(tmp_path, leads, read):
    outcomes = leads.iloc[:5][[*KEY_COLUMNS, LABEL]].reset_index(drop=True)
    outcomes.loc[1, "created_date"] = "14/01/2022"
    read_file = read(delivered(tmp_path / "outcomes.csv", outcomes, index=False))
    assert len(read_file.outcomes) == 4
    assert read_file.quarantine["reason"].tolist() == [
        "line 3: created_date: timestamp %Y-%m-%d %H:%M:%S (got 14/01/2022)"
    ]


def test_outcomes_keyed_by_pandas_index_alone_are_refused_in_one_line(tmp_path, leads, read):
    outcomes = leads[[LABEL]].iloc[:10]
    with pytest.raises(UnkeyedOutcomesError) as refusal:
        read(delivered(tmp_path / "outcomes.csv", outcomes))
    message = str(refusal.value)
    assert "\n" not in message
    assert message.startswith("Landing file outcomes.csv: an outcome export needs a 'lead_id'")
    assert "created_date, city_mapped" in message and "Nothing of it was stored" in message


@pytest.mark.parametrize(
    ("columns", "outcome"),
    [
        ([INDEX, "lead_id", LABEL], True),
        (["lead_id", LABEL], True),
        ([INDEX, LABEL], True),
        ([*KEY_COLUMNS, LABEL], True),
        ([INDEX, "lead_id", "created_date", "referred_lead", LABEL], False),
        ([INDEX, "lead_id"], False),
    ],
)
def test_outcome_exports_are_told_from_lead_exports(columns, outcome):
    assert is_outcome_export(pd.DataFrame(columns=columns)) is outcome


def test_a_labelled_lead_export_is_a_lead_export(raw_leads, parameters, interaction_mapping):
    read_file = read_landing_export(
        "l.csv", raw_leads, interaction_mapping, parameters["ingestion"], parameters["validation"]
    )
    assert len(read_file.outcomes) == 0
    assert read_file.leads[LABEL].notna().all()


@needs_shared
def test_the_natural_key_is_unique_on_real_exports_but_for_exact_repeats(
    parameters, interaction_mapping
):
    for path, distinct_leads in [(REAL_EXPORT, 24_983), (REAL_LABELLED, 100)]:
        raw = RawLeadsDataset(filepath=str(path)).load()
        read_file = read_lead_file(
            path.name, raw, interaction_mapping, parameters["ingestion"], parameters["validation"]
        )
        assert read_file.leads["lead_id"].is_unique
        assert len(read_file.leads) == distinct_leads
        repeats = read_file.quarantine
        assert len(read_file.leads) + len(repeats) == len(raw)
        assert (repeats["rule"] == "once per file").all()
        # The same key on two rows only where every field of the two rows is equal.
        fields = raw.drop(columns=[INDEX], errors="ignore")
        keys = natural_lead_keys(fields)
        assert fields.assign(key=keys).drop_duplicates()["key"].is_unique
