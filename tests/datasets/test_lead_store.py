"""The Kedro datasets over the lead store: created on first use, score batches saved."""

from __future__ import annotations

import pandas as pd

from lead_scoring.datasets import LeadStoreDataset
from lead_scoring.store import ScoreBatch


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
