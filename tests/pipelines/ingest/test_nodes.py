"""Reading landing files: the same rules as every export; keys and repeats: test_identity.py."""

from __future__ import annotations

import pandas as pd
import pytest

from lead_scoring.datasets import LeadStore
from lead_scoring.errors import MissingColumnsError
from lead_scoring.pipelines.ingest.nodes import (
    is_outcome_export,
    read_landing_files,
)

LABEL = "app_complete_flag"


def test_a_broken_file_stops_the_run_naming_the_file(
    tmp_path, raw_leads, parameters, interaction_mapping
):
    broken = raw_leads.drop(columns=["created_date", LABEL]).iloc[:10]
    with pytest.raises(MissingColumnsError, match=r"Landing file 2022-02-15_leads\.csv: .*created"):
        read_landing_files(
            {"2022-02-15_leads": broken},
            LeadStore(f"sqlite:///{tmp_path / 'lead_store.db'}"),
            interaction_mapping,
            parameters["ingestion"],
            parameters["validation"],
        )


def test_outcome_exports_are_told_from_lead_exports(raw_leads):
    assert is_outcome_export(raw_leads[["Unnamed: 0", LABEL]])
    assert is_outcome_export(pd.DataFrame({"lead_id": ["1"], LABEL: ["0"]}))
    assert not is_outcome_export(raw_leads)
    assert not is_outcome_export(raw_leads.drop(columns=[LABEL]))
