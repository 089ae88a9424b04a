"""The lead store: idempotent upserts, recorded changes, labels, one transaction per write."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys

import pandas as pd
import pytest
from kedro.io import DatasetError

from lead_scoring.datasets import LeadStoreDataset
from lead_scoring.datasets.lead_store import LeadFile, LeadStore, ScoreBatch
from lead_scoring.pipelines.ingest.nodes import read_lead_file, read_outcome_file

LABEL = "app_complete_flag"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> LeadStore:
    """An empty store: the embedded SQLite file, and PostgreSQL where a test server starts."""
    if request.param == "postgresql":
        return LeadStore(request.getfixturevalue("postgres").new_database())
    return LeadStore(f"sqlite:///{tmp_path / 'store' / 'lead_store.db'}")


@pytest.fixture
def export(raw_leads) -> pd.DataFrame:
    """600 leads of the generated export, as a new-leads export: with its index, no label."""
    return raw_leads.drop(columns=[LABEL]).iloc[:600].reset_index(drop=True)


def lead_file(name, raw, parameters, interaction_mapping) -> LeadFile:
    return read_lead_file(
        name, raw, interaction_mapping, parameters["ingestion"], parameters["validation"]
    )


def test_the_store_is_created_on_first_use_with_its_tables(tmp_path):
    path = tmp_path / "new" / "lead_store.db"
    LeadStoreDataset(url=f"sqlite:///{path}").load()
    assert path.exists()


def test_the_same_file_twice_stores_each_lead_once(store, export, parameters, interaction_mapping):
    first = store.write_ingest([lead_file("a.csv", export, parameters, interaction_mapping)])
    again = store.write_ingest([lead_file("a.csv", export, parameters, interaction_mapping)])
    kept = first[0]["leads_new"]
    assert kept + first[0]["quarantined"] == len(export)
    assert again[0]["leads_new"] == 0 and again[0]["leads_unchanged"] == kept
    assert store.count("leads") == kept
    assert store.table("leads")["lead_id"].is_unique
    assert store.count("lead_changes") == 0


def test_a_new_file_adds_only_its_leads(store, raw_leads, parameters, interaction_mapping):
    leads = raw_leads.drop(columns=[LABEL])
    store.write_ingest([lead_file("a.csv", leads.iloc[:300], parameters, interaction_mapping)])
    before = set(store.table("leads")["lead_id"])
    second = leads.iloc[300:500].reset_index(drop=True)
    log = store.write_ingest([lead_file("b.csv", second, parameters, interaction_mapping)])[0]
    added = set(store.table("leads")["lead_id"]) - before
    assert len(added) == log["leads_new"] > 0
    assert added <= set(second["Unnamed: 0"])


def test_a_changed_lead_is_updated_and_its_change_recorded(
    store, export, parameters, interaction_mapping
):
    store.write_ingest([lead_file("a.csv", export, parameters, interaction_mapping)])
    changed = export.iloc[:5].copy()
    lead_id = changed.at[0, "Unnamed: 0"]
    previous = changed.at[0, "total_leads_droppped"]
    changed.at[0, "total_leads_droppped"] = "7"
    log = store.write_ingest([lead_file("b.csv", changed, parameters, interaction_mapping)])[0]
    assert (log["leads_updated"], log["leads_unchanged"], log["leads_new"]) == (1, 4, 0)
    stored = store.table("leads").set_index("lead_id")
    assert stored.at[lead_id, "total_leads_droppped"] == "7"
    assert stored.at[lead_id, "source_file"] == "b.csv"
    changes = store.table("lead_changes")
    assert changes[["lead_id", "changed_columns", "previous_source_file"]].values.tolist() == [
        [lead_id, "total_leads_droppped", "a.csv"]
    ]
    assert str(previous) in changes.at[0, "previous_values"]


def test_an_outcome_export_fills_labels_and_quarantines_unknown_leads(
    store, raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=[LABEL]).iloc[:200]
    store.write_ingest([lead_file("a.csv", leads, parameters, interaction_mapping)])
    outcomes = raw_leads[["Unnamed: 0", LABEL]].iloc[:50].copy()
    outcomes.loc[len(outcomes)] = ["no-such-lead", "1"]
    outcomes.loc[len(outcomes)] = [outcomes.iat[0, 0], "maybe"]
    log = store.write_ingest([read_outcome_file("o.csv", outcomes, parameters["ingestion"])])[0]
    assert (log["labels_filled"], log["quarantined"], log["rows_read"]) == (50, 2, 52)
    stored = store.table("leads").set_index("lead_id")
    expected = raw_leads.set_index("Unnamed: 0")[LABEL].iloc[:50].astype(int)
    assert (stored.loc[expected.index, LABEL] == expected).all()
    assert stored[LABEL].notna().sum() == 50
    assert set(store.table("quarantined_leads")["rule"]) == {"a stored lead", "0 or 1"}
    again = store.write_ingest([read_outcome_file("o.csv", outcomes, parameters["ingestion"])])
    assert (again[0]["labels_filled"], again[0]["leads_unchanged"]) == (0, 50)


def test_a_failing_write_leaves_the_store_as_it_was(
    store, raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=[LABEL])
    store.write_ingest([lead_file("a.csv", leads.iloc[:100], parameters, interaction_mapping)])
    before = {name: store.table(name) for name in ("leads", "ingest_log", "quarantined_leads")}
    good = lead_file("b.csv", leads.iloc[100:300], parameters, interaction_mapping)
    broken = lead_file("c.csv", leads.iloc[300:400], parameters, interaction_mapping)
    # A lead without an id breaks the table's key: the database refuses the third file.
    broken.leads.loc[0, "lead_id"] = None
    dataset = LeadStoreDataset(url=store.url)
    with pytest.raises(DatasetError, match="nothing of this run was stored"):
        dataset.save([good, broken])
    for name, table in before.items():
        pd.testing.assert_frame_equal(store.table(name), table)


def _score(store: LeadStore, leads: pd.DataFrame, version: str) -> None:
    scores = pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "model_name": "lead_scoring",
            "model_version": version,
            "probability": 0.5,
            "content_hash": leads["content_hash"],
        }
    )
    store.write_scores(ScoreBatch(scores, pd.DataFrame(), None))


def test_a_new_version_rescores_only_the_recent_window(
    store, raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=[LABEL]).iloc[:400]
    store.write_ingest([lead_file("a.csv", leads, parameters, interaction_mapping)])
    due = store.leads_to_score("lead_scoring", "1", window_days=30)
    assert len(due) == store.count("leads") and due.attrs["rescored"] == 0
    _score(store, due, "1")
    assert store.leads_to_score("lead_scoring", "1", window_days=30).empty

    rescored = store.leads_to_score("lead_scoring", "2", window_days=30)
    created = pd.to_datetime(due["created_date"])
    recent = due.loc[created >= created.max() - pd.Timedelta(days=30), "lead_id"]
    assert 0 < len(rescored) == len(recent) < len(due)
    assert set(rescored["lead_id"]) == set(recent)
    assert rescored.attrs["rescored"] == len(recent)


def test_a_changed_lead_is_due_again_whatever_its_age(
    store, raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=[LABEL]).iloc[:400].reset_index(drop=True)
    store.write_ingest([lead_file("a.csv", leads, parameters, interaction_mapping)])
    _score(store, store.leads_to_score("lead_scoring", "1", window_days=30), "1")
    oldest = pd.to_datetime(leads["created_date"]).idxmin()
    changed = leads.iloc[[oldest]].copy()
    changed["referred_lead"] = "1" if changed["referred_lead"].iat[0] != "1" else "0"
    store.write_ingest([lead_file("b.csv", changed, parameters, interaction_mapping)])
    due = store.leads_to_score("lead_scoring", "1", window_days=30)
    assert due["lead_id"].tolist() == [changed["Unnamed: 0"].iat[0]]


_KILLED_MID_WRITE = """
import os, pickle, signal, sys
import sqlalchemy as sa
from lead_scoring.datasets.lead_store import LeadStore

store = LeadStore(sys.argv[1])
files = pickle.loads(open(sys.argv[2], "rb").read())

@sa.event.listens_for(store.engine, "after_execute")
def killed(connection, statement, *args):
    # kill -9 once the new leads are written, inside the transaction.
    if getattr(statement, "table", None) is not None and statement.table.name == "leads":
        os.kill(os.getpid(), signal.SIGKILL)

store.write_ingest(files)
"""


def test_a_process_killed_mid_write_leaves_the_store_as_it_was(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    leads = raw_leads.drop(columns=[LABEL])
    store.write_ingest([lead_file("a.csv", leads.iloc[:100], parameters, interaction_mapping)])
    before = {name: store.table(name) for name in ("leads", "ingest_log", "quarantined_leads")}
    batch = tmp_path / "batch.pkl"
    batch.write_bytes(
        pickle.dumps([lead_file("b.csv", leads.iloc[100:300], parameters, interaction_mapping)])
    )
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_WRITE, store.url, str(batch)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store.engine.dispose()
    reopened = LeadStore(store.url)
    for name, table in before.items():
        pd.testing.assert_frame_equal(reopened.table(name), table)
