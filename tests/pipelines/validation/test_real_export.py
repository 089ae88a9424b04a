"""The real exports in ../shared through ingestion and validation: every row kept or quarantined."""

import pytest

from lead_scoring.datasets import RawLeadsDataset
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.validation.nodes import validate_raw_leads
from tests.conftest import REAL_EXPORT, REAL_LABELLED, needs_shared

pytestmark = needs_shared


@pytest.mark.parametrize(("path", "labelled"), [(REAL_EXPORT, False), (REAL_LABELLED, True)])
def test_every_real_row_is_kept_or_quarantined_with_a_reason(
    path, labelled, interaction_mapping, parameters
):
    raw = RawLeadsDataset(filepath=str(path)).load()
    leads = normalise_raw_leads(raw, interaction_mapping, parameters["ingestion"])
    valid, quarantine = validate_raw_leads(
        leads, interaction_mapping, parameters["validation"], labelled
    )
    assert len(valid) + len(quarantine) == len(raw)
    assert not set(valid.index) & set(quarantine.index)
    assert quarantine["reason"].str.len().gt(0).all()
    assert len(quarantine) / len(raw) < 0.01
    if not labelled:
        assert len(raw) == 24_991
        assert valid["lead_id"].tolist()[:3] == ["0", "1", "2"]
