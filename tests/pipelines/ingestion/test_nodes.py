import pandas as pd
import pyarrow as pa

from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads

PARAMS = {"index_column": "Unnamed: 0", "lead_id_column": "lead_id"}


def test_the_unnamed_index_column_becomes_the_lead_id(raw_leads, interaction_mapping):
    leads = normalise_raw_leads(raw_leads, interaction_mapping, PARAMS)
    assert leads["lead_id"].tolist() == raw_leads["Unnamed: 0"].tolist()
    assert "Unnamed: 0" not in leads
    assert list(leads.columns[:3]) == ["lead_id", "created_date", "city_mapped"]


def test_without_an_index_column_the_lead_id_is_the_row_number(raw_leads, interaction_mapping):
    leads = normalise_raw_leads(raw_leads.drop(columns="Unnamed: 0"), interaction_mapping, PARAMS)
    assert leads["lead_id"].tolist() == [str(i) for i in range(len(raw_leads))]


def test_an_explicit_lead_id_column_wins_over_pandas_index(raw_leads, interaction_mapping, caplog):
    crm = raw_leads.head(4).copy()
    crm.insert(1, "lead_id", [" CRM-1 ", "CRM-2", "7.0", None])
    leads = normalise_raw_leads(crm, interaction_mapping, PARAMS)
    # Stripped; a numeric id pandas wrote as a float is the integer it was.
    assert leads["lead_id"].tolist()[:3] == ["CRM-1", "CRM-2", "7"]
    assert pd.isna(leads["lead_id"].iloc[3])
    assert "Unnamed: 0" not in leads and "Ignoring" not in caplog.text


def test_column_order_and_unknown_columns_do_not_matter(raw_leads, interaction_mapping):
    expected = normalise_raw_leads(raw_leads, interaction_mapping, PARAMS)
    shuffled = raw_leads[raw_leads.columns[::-1]].assign(utm_campaign="spring")
    pd.testing.assert_frame_equal(
        normalise_raw_leads(shuffled, interaction_mapping, PARAMS), expected
    )


def test_whitespace_and_case_are_normalised(raw_leads, interaction_mapping):
    messy = raw_leads.head(3).copy()
    messy["city_mapped"] = ["  MUMBAI ", "Pune", "   "]
    messy["first_platform_c"] = [" level7", "LEVEL10 ", "Level3"]
    messy["total_leads_droppped"] = [" 2.0 ", "", "1.0"]
    leads = normalise_raw_leads(messy, interaction_mapping, PARAMS)
    assert leads["city_mapped"].tolist()[:2] == ["mumbai", "pune"]
    assert pd.isna(leads["city_mapped"].iloc[2])
    assert leads["first_platform_c"].tolist() == ["Level7", "Level10", "Level3"]
    assert leads["total_leads_droppped"].iloc[0] == "2.0"
    assert pd.isna(leads["total_leads_droppped"].iloc[1])


def test_numbers_from_json_records_become_text(interaction_mapping):
    record = pd.DataFrame(
        [{"created_date": "2021-08-01 10:00:00", "referred_lead": 1.0, "city_mapped": None}]
    )
    leads = normalise_raw_leads(record, interaction_mapping, PARAMS)
    assert leads["referred_lead"].iloc[0] == "1.0"
    assert pd.isna(leads["city_mapped"].iloc[0])


def test_an_export_held_in_several_arrow_chunks_normalises_as_one(raw_leads, interaction_mapping):
    # Large exports arrive from Arrow's CSV reader in blocks, so a column may span several.
    halves = {}
    for name, cells in raw_leads.items():
        text = cells.astype("str").to_numpy(dtype=object, na_value=None)
        middle = len(text) // 2
        halves[name] = pd.arrays.ArrowStringArray(
            pa.chunked_array(
                [pa.array(part, pa.large_string()) for part in (text[:middle], text[middle:])]
            )
        )
    chunked = pd.DataFrame(halves)
    assert chunked["syllabus"].array._pa_array.num_chunks == 2

    leads = normalise_raw_leads(chunked, interaction_mapping, PARAMS)

    expected = normalise_raw_leads(raw_leads.astype("str"), interaction_mapping, PARAMS)
    pd.testing.assert_frame_equal(leads, expected)
    assert (leads.dtypes == "str").all()
