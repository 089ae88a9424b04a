"""Reading landing files: the same rules as every export; keys and repeats: test_identity.py."""

from __future__ import annotations

import pandas as pd

from lead_scoring.pipelines.ingest.lead_files import is_outcome_export

LABEL = "app_complete_flag"


def test_outcome_exports_are_told_from_lead_exports(raw_leads):
    assert is_outcome_export(raw_leads[["Unnamed: 0", LABEL]])
    assert is_outcome_export(pd.DataFrame({"lead_id": ["1"], LABEL: ["0"]}))
    assert not is_outcome_export(raw_leads)
    assert not is_outcome_export(raw_leads.drop(columns=[LABEL]))
