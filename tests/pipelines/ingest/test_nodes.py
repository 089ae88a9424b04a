"""Reading landing files: the same rules as every export, keys, repeats and outcome files."""

from __future__ import annotations

import pandas as pd

from lead_scoring.pipelines.ingest.nodes import (
    is_outcome_export,
    read_lead_file,
)

LABEL = "app_complete_flag"


def test_an_export_without_its_index_gets_keys_from_its_content(
    raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=["Unnamed: 0", LABEL]).iloc[:100]
    settings = (parameters["ingestion"], parameters["validation"])
    first = read_lead_file("a.csv", leads, interaction_mapping, *settings)
    shuffled = read_lead_file("b.csv", leads.iloc[::-1], interaction_mapping, *settings)
    assert first.leads["lead_id"].str.match(r"^h[0-9a-f]{16}$").all()
    # The same lead gets the same key wherever it stands in whichever file.
    assert set(first.leads["lead_id"]) == set(shuffled.leads["lead_id"])


def test_a_repeated_lead_id_keeps_the_last_row_and_quarantines_the_others(
    raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=[LABEL]).iloc[:10].reset_index(drop=True)
    leads.loc[3, "Unnamed: 0"] = leads.loc[7, "Unnamed: 0"]
    read = read_lead_file(
        "a.csv", leads, interaction_mapping, parameters["ingestion"], parameters["validation"]
    )
    assert len(read.leads) + len(read.quarantine) == read.rows_read == 10
    assert read.quarantine["row"].tolist() == [3]
    assert read.quarantine["rule"].tolist() == ["unique lead_id"]
    kept = read.leads.set_index("lead_id").loc[leads.loc[7, "Unnamed: 0"]]
    assert kept["created_date"] == leads.loc[7, "created_date"]


def test_outcome_exports_are_told_from_lead_exports(raw_leads):
    assert is_outcome_export(raw_leads[["Unnamed: 0", LABEL]])
    assert is_outcome_export(pd.DataFrame({"lead_id": ["1"], LABEL: ["0"]}))
    assert not is_outcome_export(raw_leads)
    assert not is_outcome_export(raw_leads.drop(columns=[LABEL]))
