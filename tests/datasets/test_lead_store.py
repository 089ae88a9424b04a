"""The Kedro datasets over the lead store: created on first use, score batches saved."""

from __future__ import annotations

import pandas as pd

from lead_scoring.contract import INDEX_COLUMN
from lead_scoring.datasets import LeadStoreDataset
from lead_scoring.datasets.lead_store import BOOKKEEPING_COLUMNS, DueLeads
from lead_scoring.store import LeadStore, ScoreBatch
from tests.store.conftest import crm_export
from tests.store.test_repository import lead_file


def test_the_store_is_created_on_first_use_with_its_tables(tmp_path):
    path = tmp_path / "new" / "lead_store.db"
    store = LeadStoreDataset(url=f"sqlite:///{path}").load()
    assert path.exists()
    assert store.count("leads") == 0 and store.count("pending_outcomes") == 0


def test_a_score_batch_is_saved_with_its_run(tmp_path):
    dataset = LeadStoreDataset(url=f"sqlite:///{tmp_path / 'lead_store.db'}")
    scores = pd.DataFrame(
        {"lead_id": ["a"], "model_name": ["m"], "model_version": ["1"], "role": ["challenger"]}
    )
    dataset.save(ScoreBatch(scores, pd.DataFrame(), {"run_id": "r1", "leads_scored": 1}))
    store = dataset.load()
    assert store.table("scored_leads")["role"].tolist() == ["challenger"]
    assert store.table("score_log")["run_id"].tolist() == ["r1"]


def test_due_leads_read_as_an_export_a_chunk_at_a_time(
    tmp_path, raw_leads, parameters, interaction_mapping
):
    store = LeadStore(f"sqlite:///{tmp_path / 'lead_store.db'}")
    export = crm_export(raw_leads, 0, 25)
    store.ingest_file(lead_file("day.csv", export, parameters, interaction_mapping))
    chunks = list(DueLeads(store.leads_to_score("lead_scoring", "1", window_days=30)).read(10))
    # Batch scoring's reader protocol: ids in the index column, rows numbered across chunks,
    # the export's fields only, no file line and nothing rejected.
    assert [len(chunk.leads) for chunk in chunks] == [10, 10, 5]
    leads = pd.concat(chunk.leads for chunk in chunks)
    assert list(leads.index) == list(range(25))
    assert sorted(leads[INDEX_COLUMN]) == sorted(export["lead_id"])
    assert not {"lead_id", *BOOKKEEPING_COLUMNS} & set(leads.columns)
    stored = store.table("leads").set_index("lead_id").loc[leads[INDEX_COLUMN]]
    for field in leads.columns.drop(INDEX_COLUMN):
        # Missing is None or NaN depending on the query that read the store.
        assert leads[field].fillna("").tolist() == stored[field].fillna("").tolist(), field
    assert all(pd.isna(chunk.lines).all() and chunk.rejected.empty for chunk in chunks)


def test_no_due_leads_read_as_no_chunk(tmp_path):
    due = LeadStore(f"sqlite:///{tmp_path / 'lead_store.db'}").leads_to_score("m", "1", 30)
    assert list(DueLeads(due).read(10)) == []
