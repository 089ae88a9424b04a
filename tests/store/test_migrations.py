"""Schema migrations: a store made by the previous release is upgraded, on SQLite and PostgreSQL.

The old store is built with the SQL that release's ``lead_store.py`` ran (its tables as
SQLAlchemy created them, ``leads`` from the first file's columns) and the rows it wrote: leads
keyed by pandas' row number, one of them merged from two files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from lead_scoring.contract import natural_lead_keys
from lead_scoring.store import LeadStore, SchemaOutOfDateError, StoreUnavailableError, tables
from lead_scoring.store.schema import head_revision
from tests.conftest import PROJECT_ROOT
from tests.pipelines.ingest.test_landing_files import ingest
from tests.store.conftest import write

_OLD_TABLES = """
CREATE TABLE quarantined_leads (source_file TEXT NOT NULL, "row" BIGINT NOT NULL, lead_id TEXT,
  "column" TEXT, rule TEXT, value TEXT, reason TEXT, ingested_at TEXT,
  PRIMARY KEY (source_file, "row"));
CREATE TABLE scored_leads (lead_id TEXT NOT NULL, model_name TEXT NOT NULL,
  model_version TEXT NOT NULL, scored_at TEXT, probability FLOAT, score INTEGER, tier TEXT,
  reason_1 TEXT, reason_2 TEXT, reason_3 TEXT, created_date TEXT, content_hash TEXT,
  run_id TEXT, PRIMARY KEY (lead_id, model_name, model_version));
CREATE TABLE lead_changes (change_id {serial} NOT NULL, lead_id TEXT, changed_at TEXT,
  source_file TEXT, previous_source_file TEXT, changed_columns TEXT, previous_values TEXT,
  previous_hash TEXT, content_hash TEXT, PRIMARY KEY (change_id));
CREATE INDEX ix_lead_changes_lead_id ON lead_changes (lead_id);
CREATE TABLE ingest_log (source_file TEXT NOT NULL, file_hash TEXT, kind TEXT,
  ingested_at TEXT, rows_read INTEGER, leads_new INTEGER, leads_updated INTEGER,
  leads_unchanged INTEGER, quarantined INTEGER, labels_filled INTEGER,
  PRIMARY KEY (source_file));
CREATE TABLE score_log (run_id TEXT NOT NULL, scored_at TEXT, model_name TEXT,
  model_version TEXT, leads_selected INTEGER, leads_scored INTEGER, leads_quarantined INTEGER,
  rescored INTEGER, hot_share FLOAT, warm_share FLOAT, cold_share FLOAT, max_psi FLOAT,
  drifting_features TEXT, PRIMARY KEY (run_id));
CREATE TABLE leads (lead_id TEXT NOT NULL, {fields}, app_complete_flag INTEGER,
  content_hash TEXT, source_file TEXT, ingested_at TEXT, updated_at TEXT, labelled_at TEXT,
  PRIMARY KEY (lead_id));
CREATE INDEX ix_leads_created_date ON leads (created_date);
"""


def build_old_store(url: str, raw_leads: pd.DataFrame) -> pd.DataFrame:
    """A store as the previous release left it after two daily files of three leads each."""
    fields = [c for c in raw_leads.columns if c not in ("Unnamed: 0", "app_complete_flag")]
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    ddl = _OLD_TABLES.format(serial=serial, fields=", ".join(f'"{f}" TEXT' for f in fields))
    # Day 2's leads 0, 1, 2 overwrote day 1's: the old store kept three leads of six.
    day2 = raw_leads.iloc[3:6][fields].reset_index(drop=True)
    leads = day2.assign(
        lead_id=["0", "1", "2"],
        app_complete_flag=[1, None, 0],
        content_hash=["h0", "h1", "h2"],
        source_file="day2.csv",
        ingested_at="2026-01-01T00:00:00+00:00",
        updated_at="2026-01-02T00:00:00+00:00",
        labelled_at=None,
    )
    with engine.begin() as connection:
        for statement in filter(str.strip, ddl.split(";")):
            connection.execute(sa.text(statement))
        leads.to_sql("leads", connection, if_exists="append", index=False)
        connection.execute(
            sa.text(
                "INSERT INTO scored_leads (lead_id, model_name, model_version, scored_at, "
                "probability, content_hash) VALUES (:id, 'lead_scoring', '1', 'then', 0.5, :h)"
            ),
            [{"id": i, "h": f"h{i}"} for i in ("0", "1", "2")],
        )
        connection.execute(
            sa.text(
                "INSERT INTO ingest_log (source_file, file_hash, kind, leads_new) "
                "VALUES (:f, :h, 'leads', 3)"
            ),
            [{"f": "day1.csv", "h": "frame1"}, {"f": "day2.csv", "h": "frame2"}],
        )
        connection.execute(
            sa.text("INSERT INTO lead_changes (lead_id, source_file) VALUES ('1', 'day2.csv')")
        )
    engine.dispose()
    return leads


def test_a_store_of_the_previous_release_is_upgraded_by_the_run(
    tmp_path, store_url, raw_leads, parameters, interaction_mapping
):
    old = build_old_store(store_url, raw_leads)
    store = LeadStore(store_url)
    leads = store.table("leads").set_index("lead_id")
    keys = natural_lead_keys(old).tolist()
    assert sorted(leads.index) == sorted(keys)
    assert leads.loc[keys, "app_complete_flag"].tolist()[::2] == [1, 0]
    scores = store.table("scored_leads")
    assert sorted(scores["lead_id"]) == sorted(keys) and set(scores["role"]) == {"champion"}
    assert store.table("lead_changes")["lead_id"].tolist() == [keys[1]]
    log = store.table("ingest_log")
    assert sorted(log["source_file"]) == ["day1.csv", "day2.csv"]
    assert set(log["status"]) == {"stored"}
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
        views = sa.inspect(connection).get_view_names()
    assert "call_queue" in views
    # The old reads were recorded by a hash of the parsed frame, which no file's bytes match:
    # the next ingest reads every landing file again and unmerges what the old store merged.
    fields = raw_leads.drop(columns=["Unnamed: 0", "app_complete_flag"])
    for day, rows in (("day1", slice(0, 3)), ("day2", slice(3, 6))):
        write(fields.iloc[rows].reset_index(drop=True), tmp_path / "landing" / f"{day}.csv")
    again = ingest(tmp_path / "landing", store, parameters, interaction_mapping)
    assert again["files"] == 2 and again["rows_read"] == 6


def test_the_migrated_schema_is_the_one_the_code_queries(store_url):
    store = LeadStore(store_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), tables.metadata)
    # Types as each database reports them aside, the migrations make exactly these tables.
    assert [d for d in differences if d[0] not in ("modify_type", "modify_default")] == []


def test_an_old_schema_without_auto_upgrade_stops_in_one_line_naming_the_command(
    store_url, raw_leads
):
    build_old_store(store_url, raw_leads)
    with pytest.raises(SchemaOutOfDateError) as stopped:
        LeadStore(store_url, upgrade=False)
    message = str(stopped.value)
    assert "\n" not in message and "revision 0001" in message
    assert "`kedro store upgrade`" in message


def test_kedro_store_upgrade_upgrades_the_store_at_lead_store_url(
    store_url, raw_leads, monkeypatch
):
    from lead_scoring.cli import cli

    build_old_store(store_url, raw_leads)
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.setenv("LEAD_STORE_URL", store_url)
    result = CliRunner().invoke(cli, ["store", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"schema revision {head_revision()}" in result.output
    LeadStore(store_url, upgrade=False)  # current now


@pytest.mark.parametrize(
    "url", ["garbage", "mysql://scoring@db/leads", "sqlite:////proc/no/such/lead_store.db"]
)
def test_a_bad_lead_store_url_is_one_line_naming_the_variable(url):
    from kedro.io import DatasetError

    with pytest.raises((StoreUnavailableError, DatasetError)) as stopped:
        LeadStore(url)
    assert "\n" not in str(stopped.value) and "LEAD_STORE_URL" in str(stopped.value)
