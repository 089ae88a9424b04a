"""The store's repository: idempotent upserts, recorded changes, labels, one transaction per file,
and the rescore window after a new champion. On SQLite and PostgreSQL (``store``)."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys

import pandas as pd
import pytest
from kedro.io import DatasetError

from lead_scoring.datasets import LeadStoreDataset
from lead_scoring.pipelines.ingest.lead_files import read_lead_file, read_outcome_file
from lead_scoring.store import LeadFile, LeadStore, ScoreBatch
from tests.store.conftest import LABEL, crm_export, outcome_export

NOW = pd.Timestamp("2026-12-06T00:00:00+00:00")


@pytest.fixture
def export(raw_leads) -> pd.DataFrame:
    """600 leads of the generated export, as a CRM's new-leads export: ids, no label."""
    return crm_export(raw_leads, 0, 600)


def lead_file(name, raw, parameters, interaction_mapping) -> LeadFile:
    # As the landing folder hands it over: read back from text, with the index as a column.
    raw = raw.reset_index(names="Unnamed: 0").astype("str")
    return read_lead_file(
        name, raw, interaction_mapping, parameters["ingestion"], parameters["validation"]
    )


def outcome_file(name, raw, parameters) -> LeadFile:
    raw = raw.reset_index(names="Unnamed: 0").astype("str")
    return read_outcome_file(name, raw, parameters["ingestion"])


def test_the_same_file_twice_stores_each_lead_once(store, export, parameters, interaction_mapping):
    first = store.ingest_file(lead_file("a.csv", export, parameters, interaction_mapping))
    again = store.ingest_file(lead_file("a.csv", export, parameters, interaction_mapping))
    kept = first["leads_new"]
    assert kept + first["quarantined"] == len(export)
    assert again["leads_new"] == 0 and again["leads_unchanged"] == kept
    assert store.count("leads") == kept
    assert store.table("leads")["lead_id"].is_unique
    assert store.count("lead_changes") == 0


def test_a_changed_lead_is_updated_and_its_change_recorded(
    store, export, parameters, interaction_mapping
):
    store.ingest_file(lead_file("a.csv", export, parameters, interaction_mapping))
    changed = export.iloc[:5].copy()
    previous = changed.iat[0, changed.columns.get_loc("total_leads_droppped")]
    changed.iloc[0, changed.columns.get_loc("total_leads_droppped")] = "7"
    log = store.ingest_file(lead_file("b.csv", changed, parameters, interaction_mapping))
    assert (log["leads_updated"], log["leads_unchanged"], log["leads_new"]) == (1, 4, 0)
    stored = store.table("leads").set_index("lead_id")
    assert stored.at["crm-0", "total_leads_droppped"] == "7"
    assert stored.at["crm-0", "source_file"] == "b.csv"
    changes = store.table("lead_changes")
    assert changes[["lead_id", "changed_columns", "previous_source_file"]].values.tolist() == [
        ["crm-0", "total_leads_droppped", "a.csv"]
    ]
    assert str(previous) in changes.at[0, "previous_values"]


def test_an_outcome_export_fills_labels_keeps_unknown_leads_pending(
    store, raw_leads, parameters, interaction_mapping
):
    store.ingest_file(
        lead_file("a.csv", crm_export(raw_leads, 0, 200), parameters, interaction_mapping)
    )
    outcomes = outcome_export(raw_leads, 0, 50)
    outcomes.loc["no-such-lead"] = ["no-such-lead", "1"]
    outcomes.loc["bad"] = ["crm-0", "maybe"]
    log = store.ingest_file(outcome_file("o.csv", outcomes, parameters))
    assert (log["labels_filled"], log["quarantined"], log["outcomes_pending"]) == (50, 1, 1)
    assert log["rows_read"] == 52
    stored = store.table("leads").set_index("lead_id")[LABEL]
    expected = outcome_export(raw_leads, 0, 50)[LABEL].astype(int)
    assert (stored.loc[expected.index] == expected).all() and stored.notna().sum() == 50
    assert store.table("quarantined_leads")["rule"].tolist() == ["0 or 1"]
    assert store.table("pending_outcomes")["lead_id"].tolist() == ["no-such-lead"]
    again = store.ingest_file(outcome_file("o.csv", outcomes, parameters))
    assert (again["labels_filled"], again["leads_unchanged"], again["labels_changed"]) == (0, 50, 0)


def test_a_failing_write_leaves_the_store_as_it_was(
    store, raw_leads, parameters, interaction_mapping
):
    store.ingest_file(
        lead_file("a.csv", crm_export(raw_leads, 0, 100), parameters, interaction_mapping)
    )
    before = {name: store.table(name) for name in ("leads", "ingest_log", "quarantined_leads")}
    broken = lead_file("c.csv", crm_export(raw_leads, 300, 400), parameters, interaction_mapping)
    # A lead without an id breaks the table's key: the database refuses the file.
    broken.leads.loc[5, "lead_id"] = None
    with pytest.raises(DatasetError, match="refused the write, so nothing of it was stored"):
        LeadStoreDataset(url=store.url).save([broken])
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


def test_a_new_version_rescores_the_leads_that_arrived_within_the_window(
    store, raw_leads, parameters, interaction_mapping
):
    old = lead_file("old.csv", crm_export(raw_leads, 0, 300), parameters, interaction_mapping)
    store.ingest_file(old, at=(NOW - pd.Timedelta(days=90)).isoformat())
    recent_export = crm_export(raw_leads, 300, 400)
    # One lead dated years ahead of the rest (within validation's bounds: today).
    recent_export.iloc[0, recent_export.columns.get_loc("created_date")] = "2026-12-05 10:00:00"
    recent = lead_file("recent.csv", recent_export, parameters, interaction_mapping)
    store.ingest_file(recent, at=(NOW - pd.Timedelta(days=2)).isoformat())
    due = store.leads_to_score("lead_scoring", "1", window_days=30, now=NOW)
    assert len(due) == store.count("leads") and due.attrs["rescored"] == 0
    _score(store, due, "1")
    assert store.leads_to_score("lead_scoring", "1", window_days=30, now=NOW).empty

    rescored = store.leads_to_score("lead_scoring", "2", window_days=30, now=NOW)
    assert set(rescored["lead_id"]) == set(recent.leads["lead_id"])
    assert rescored.attrs["rescored"] == len(recent.leads) > 1


def test_a_changed_lead_is_due_again_whatever_its_age(
    store, raw_leads, parameters, interaction_mapping
):
    leads = crm_export(raw_leads, 0, 400)
    store.ingest_file(
        lead_file("a.csv", leads, parameters, interaction_mapping),
        at=(NOW - pd.Timedelta(days=400)).isoformat(),
    )
    _score(store, store.leads_to_score("lead_scoring", "1", window_days=30, now=NOW), "1")
    changed = leads.iloc[[7]].copy()
    changed["referred_lead"] = "1" if changed["referred_lead"].iat[0] != "1" else "0"
    store.ingest_file(lead_file("b.csv", changed, parameters, interaction_mapping))
    due = store.leads_to_score("lead_scoring", "1", window_days=30, now=NOW)
    assert due["lead_id"].tolist() == ["crm-7"]


_KILLED_MID_WRITE = """
import os, pickle, signal, sys
import sqlalchemy as sa
from lead_scoring.store import LeadStore

store = LeadStore(sys.argv[1])
lead_file = pickle.loads(open(sys.argv[2], "rb").read())

@sa.event.listens_for(store.engine, "after_execute")
def killed(connection, statement, *args):
    # kill -9 once the new leads are written, inside the file's transaction.
    if getattr(statement, "table", None) is not None and statement.table.name == "leads":
        os.kill(os.getpid(), signal.SIGKILL)

store.ingest_file(lead_file)
"""


def test_a_process_killed_mid_write_leaves_the_store_as_it_was(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    store.ingest_file(
        lead_file("a.csv", crm_export(raw_leads, 0, 100), parameters, interaction_mapping)
    )
    before = {name: store.table(name) for name in ("leads", "ingest_log", "quarantined_leads")}
    batch = tmp_path / "batch.pkl"
    batch.write_bytes(
        pickle.dumps(
            lead_file("b.csv", crm_export(raw_leads, 100, 300), parameters, interaction_mapping)
        )
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


def test_a_quarantined_row_keeps_its_file_line(store):
    quarantine = pd.DataFrame(
        {
            "row": [3],
            "lead_id": [None],
            "column": ["lead_id"],
            "rule": ["required value"],
            "value": [None],
            "reason": ["lead_id: required value (got <blank>)"],
            "line": [5],
        }
    )
    log = store.ingest_file(LeadFile("a.csv", "hash-a", 1, quarantine=quarantine))
    assert log["quarantined"] == 1
    stored = store.table("quarantined_leads")
    assert stored[["source_file", "row", "line"]].values.tolist() == [["a.csv", 3, 5]]
