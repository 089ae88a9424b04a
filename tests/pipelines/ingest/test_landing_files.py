"""Ingest of a landing folder as feeds deliver it: outcomes before leads, files still written,
files corrected under the same name, renamed, refused, a new store, a backlog cut short.

Every test runs on SQLite and on PostgreSQL (``store_url``), from files written at test time.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from lead_scoring.datasets import LandingDataset
from lead_scoring.pipelines.ingest.nodes import (
    LandingFilesRefusedError,
    ingest_landing_files,
    summarise_ingest,
)
from lead_scoring.store import LeadStore
from tests.store.conftest import LABEL, crm_export, outcome_export, write

SETTLED = {"settle_seconds": 0, "unterminated_grace_minutes": 60}


def ingest(folder, store, parameters, interaction_mapping, landing=SETTLED) -> dict:
    """One ingest run over ``folder``: the nodes as `kedro run --pipeline=ingest` chains them."""
    files = LandingDataset(path=str(folder), dataset="lead_scoring.datasets.RawLeadsDataset").load()
    report = ingest_landing_files(
        files,
        store,
        interaction_mapping,
        parameters["ingestion"],
        parameters["validation"],
        landing,
    )
    return summarise_ingest(report)


def labels(store: LeadStore) -> pd.Series:
    return store.table("leads").set_index("lead_id")[LABEL]


def labels_turned(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outcomes with each label turned over, as a corrected outcome export sends them."""
    return outcomes.assign(**{LABEL: (1 - outcomes[LABEL].astype(int)).astype(str)})


def test_an_outcome_before_its_lead_is_kept_and_applied_when_the_lead_arrives(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    landing = tmp_path / "landing"
    # Day 1's outcomes come a run before day 1's leads.
    write(outcome_export(raw_leads, 0, 50), landing / "2022-02-15_outcomes.csv")
    first = ingest(landing, store, parameters, interaction_mapping)
    assert (first["outcomes_pending"], first["labels_filled"], store.count("leads")) == (50, 0, 0)
    assert store.count("pending_outcomes") == 50
    write(crm_export(raw_leads, 0, 100), landing / "2022-02-15_leads.csv")
    # In the same run, an outcome file that sorts before its lead file.
    write(crm_export(raw_leads, 100, 150), landing / "b_leads.csv")
    write(outcome_export(raw_leads, 100, 150), landing / "a_outcomes.csv")
    second = ingest(landing, store, parameters, interaction_mapping)
    assert second["pending_applied"] == 50
    assert second["outcomes_pending"] == 0 and second["labels_filled"] == 100
    stored = labels(store)
    expected = outcome_export(raw_leads, 0, 50)[LABEL].astype(int)
    expected = pd.concat([expected, outcome_export(raw_leads, 100, 150)[LABEL].astype(int)])
    assert (stored.loc[expected.index] == expected).all()
    assert stored.notna().sum() == 100 and store.count("pending_outcomes") == 0


def test_a_file_still_written_is_left_then_read_whole(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    landing = tmp_path / "landing"
    path = write(crm_export(raw_leads, 0, 584), landing / "day.csv")
    whole = path.read_bytes()
    lines = whole.splitlines(keepends=True)
    # The writer stopped mid-row: the file is left for the next run.
    path.write_bytes(b"".join(lines[:200]) + lines[200][:40])
    deferred = ingest(landing, store, parameters, interaction_mapping)
    assert (deferred["files_deferred"], deferred["files"], store.count("leads")) == (1, 0, 0)
    # A writer that breaks the convention: 295 whole rows read while it appends the rest.
    path.write_bytes(b"".join(lines[:296]))
    part = ingest(landing, store, parameters, interaction_mapping)
    assert part["leads_new"] == 295
    path.write_bytes(whole)
    rest = ingest(landing, store, parameters, interaction_mapping)
    assert (rest["files_reread"], rest["leads_new"], rest["leads_unchanged"]) == (1, 289, 295)
    assert store.count("leads") == 584
    # A file modified within the settle time waits, whatever its last line.
    os.utime(path, (time.time(), time.time()))
    path.write_bytes(whole + b"")
    waiting = ingest(
        landing, store, parameters, interaction_mapping, {**SETTLED, "settle_seconds": 60}
    )
    assert waiting["files_deferred"] == 1


def test_a_corrected_export_under_the_same_name_is_read_again(
    tmp_path, store, raw_leads, parameters, interaction_mapping, caplog
):
    landing = tmp_path / "landing"
    export = crm_export(raw_leads, 0, 100)
    write(export, landing / "day.csv")
    ingest(landing, store, parameters, interaction_mapping)
    export.iloc[:3, export.columns.get_loc("total_leads_droppped")] = "9"
    corrected = pd.concat([export, crm_export(raw_leads, 100, 110)])
    write(corrected, landing / "day.csv")
    again = ingest(landing, store, parameters, interaction_mapping)
    assert (again["files_reread"], again["leads_updated"], again["leads_new"]) == (1, 3, 10)
    assert "day.csv changed since it was read" in caplog.text
    stored = store.table("leads").set_index("lead_id")
    assert (stored.loc[["crm-0", "crm-1", "crm-2"], "total_leads_droppped"] == "9").all()
    log = store.table("ingest_log")
    assert log["source_file"].tolist() == ["day.csv", "day.csv"]
    assert log["leads_new"].tolist() == [100, 10]


def test_a_renamed_copy_is_not_stored_twice_and_a_new_store_reads_every_file(
    tmp_path, store, raw_leads, parameters, interaction_mapping, caplog
):
    landing = tmp_path / "landing"
    write(crm_export(raw_leads, 0, 100), landing / "day1.csv")
    write(crm_export(raw_leads, 100, 200), landing / "DAY2.CSV")
    # The old checkpoint, as the previous release left it: ignored.
    (landing / ".ingested.json").write_text('["day1.csv", "DAY2.CSV"]')
    # A copy delivered beside it in the same run.
    (landing / "day1_copy.csv").write_bytes((landing / "day1.csv").read_bytes())
    first = ingest(landing, store, parameters, interaction_mapping)
    assert (first["files"], first["files_skipped"], first["leads_new"]) == (2, 1, 200)
    (landing / "day1_copy.csv").unlink()
    (landing / "day1.csv").rename(landing / "day1_resent.csv")
    again = ingest(landing, store, parameters, interaction_mapping)
    assert (again["files"], again["files_skipped"], store.count("leads")) == (0, 2, 200)
    assert "day1_resent.csv has the content of day1.csv" in caplog.text
    # The store moved (LEAD_STORE_URL to a new database, or the file deleted).
    fresh = LeadStore(f"sqlite:///{tmp_path / 'moved' / 'lead_store.db'}")
    moved = ingest(landing, fresh, parameters, interaction_mapping)
    assert (moved["files"], moved["leads_new"], fresh.count("leads")) == (2, 200, 200)


def test_a_flipped_label_is_recorded_counted_and_reported_once(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    from lead_scoring.datasets import LabelChangesDataset
    from lead_scoring.pipelines.train_from_store.nodes import report_label_changes

    landing = tmp_path / "landing"
    write(crm_export(raw_leads, 0, 100), landing / "leads.csv")
    outcomes = outcome_export(raw_leads, 0, 100)
    write(outcomes, landing / "outcomes_1.csv")
    ingest(landing, store, parameters, interaction_mapping)
    flipped = labels_turned(outcomes.iloc[:20])
    write(flipped, landing / "outcomes_2.csv")
    run = ingest(landing, store, parameters, interaction_mapping)
    assert (run["labels_changed"], run["labels_filled"]) == (20, 20)
    changes = store.table("label_changes")
    assert len(changes) == 20 and set(changes["source_file"]) == {"outcomes_2.csv"}
    before = outcomes[LABEL].astype(int).iloc[:20]
    assert (changes.set_index("lead_id").loc[before.index, "previous_label"] == before).all()
    assert changes["changed_at"].notna().all()
    assert (labels(store).loc[flipped.index] == flipped[LABEL].astype(int)).all()

    dataset = LabelChangesDataset(url=store.url)
    report, reported = report_label_changes(dataset.load())
    assert report["labels_changed"] == 20
    assert report["to_completed"] + report["to_not_completed"] == 20
    dataset.save(reported)
    # The next training reports nothing new.
    assert report_label_changes(dataset.load())[0] == {"labels_changed": 0}


def test_a_refused_file_stops_only_itself_and_is_not_refused_again_until_it_changes(
    tmp_path, store, raw_leads, parameters, interaction_mapping, caplog
):
    landing = tmp_path / "landing"
    write(crm_export(raw_leads, 0, 50), landing / "a.csv")
    broken = crm_export(raw_leads, 50, 60).drop(columns=["created_date"])
    write(broken, landing / "b.csv")
    write(crm_export(raw_leads, 60, 110), landing / "c.csv")
    with pytest.raises(LandingFilesRefusedError) as refused:
        ingest(landing, store, parameters, interaction_mapping)
    lines = str(refused.value).splitlines()
    assert len(lines) == 2 and lines[1].startswith("Landing file b.csv:")
    assert "created_date" in lines[1]
    assert store.count("leads") == 100
    log = store.table("ingest_log").set_index("source_file")
    assert log.at["b.csv", "status"] == "refused" and "created_date" in log.at["b.csv", "reason"]
    caplog.clear()
    again = ingest(landing, store, parameters, interaction_mapping)
    assert again["files_still_refused"] == 1 and again["files"] == 0
    assert "b.csv is unchanged since it was refused" in caplog.text
    write(crm_export(raw_leads, 50, 60), landing / "b.csv")
    fixed = ingest(landing, store, parameters, interaction_mapping)
    assert (fixed["files"], fixed["leads_new"], store.count("leads")) == (1, 10, 110)


def test_a_run_cut_short_keeps_the_files_it_finished(
    tmp_path, store, raw_leads, parameters, interaction_mapping, monkeypatch
):
    landing = tmp_path / "landing"
    for day in range(5):
        write(crm_export(raw_leads, 10 * day, 10 * day + 10), landing / f"day{day}.csv")
    calls = {"n": 0}
    original = store.ingest_file

    def killed_at_the_fourth(lead_file, at=None):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the task's timeout
        return original(lead_file, at)

    monkeypatch.setattr(store, "ingest_file", killed_at_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        ingest(landing, store, parameters, interaction_mapping)
    assert store.count("leads") == 30 and store.count("ingest_log") == 3
    monkeypatch.setattr(store, "ingest_file", original)
    rest = ingest(landing, store, parameters, interaction_mapping)
    assert (rest["files"], rest["files_skipped"], store.count("leads")) == (2, 3, 50)


def test_a_line_of_undecodable_bytes_is_quarantined_with_its_line_beside_the_leads(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    landing = tmp_path / "landing"
    path = write(crm_export(raw_leads, 0, 30), landing / "day.csv")
    lines = path.read_bytes().splitlines(keepends=True)
    # Line 7 keeps its fields but its bytes are no text in any encoding the reader knows.
    fields = lines[6].split(b",")
    fields[2] = b"\xff\xfe\xfa"
    lines[6] = b",".join(fields)
    path.write_bytes(b"".join(lines))
    counts = ingest(landing, store, parameters, interaction_mapping)
    quarantine = store.table("quarantined_leads")
    assert counts["leads_new"] + counts["quarantined"] == 30
    assert store.count("leads") + len(quarantine) == 30
    assert quarantine["line"].tolist() == [7]


def test_a_refused_file_whose_reason_quotes_a_nul_byte_is_recorded(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    landing = tmp_path / "landing"
    path = write(crm_export(raw_leads, 0, 30), landing / "day.csv")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:10], b"\xff\x00,\x00\n", *lines[10:]]))
    with pytest.raises(LandingFilesRefusedError, match="day.csv"):
        ingest(landing, store, parameters, interaction_mapping)
    refused = store.reads()
    assert refused["status"].tolist() == ["refused"] and "\x00" not in refused["reason"].iloc[0]
    assert store.count("leads") == 0


def test_the_terminal_names_only_the_files_with_quarantined_rows(
    tmp_path, store, raw_leads, parameters, interaction_mapping, caplog
):
    landing = tmp_path / "landing"
    write(crm_export(raw_leads, 0, 30), landing / "clean.csv")
    path = write(crm_export(raw_leads, 30, 60), landing / "dirty.csv")
    lines = path.read_bytes().splitlines(keepends=True)
    fields = lines[6].split(b",")
    fields[2] = b"\xff\xfe\xfa"
    lines[6] = b",".join(fields)
    path.write_bytes(b"".join(lines))
    with caplog.at_level("INFO", logger="lead_scoring"):
        ingest(landing, store, parameters, interaction_mapping)
    # conf/logging.yml sends the ".files" logger to the log file only.
    per_file = {
        r.getMessage().split(":")[0]: r.name
        for r in caplog.records
        if r.getMessage().endswith("pending applied")
    }
    assert per_file == {
        "clean.csv": "lead_scoring.pipelines.ingest.nodes.files",
        "dirty.csv": "lead_scoring.pipelines.ingest.nodes",
    }


def test_an_outcome_replacing_a_pending_or_a_delivered_label_is_a_label_change(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    landing = tmp_path / "landing"
    outcomes = outcome_export(raw_leads, 0, 20)
    write(outcomes, landing / "outcomes_1.csv")
    ingest(landing, store, parameters, interaction_mapping)
    flipped = labels_turned(outcomes.iloc[:5])
    write(flipped, landing / "outcomes_2.csv")
    run = ingest(landing, store, parameters, interaction_mapping)
    assert (run["labels_changed"], run["outcomes_pending"]) == (5, 5)
    # The leads arrive labelled as outcomes_1 said: outcomes_2's pending labels replace five.
    write(crm_export(raw_leads, 0, 20, label=True), landing / "leads.csv")
    run = ingest(landing, store, parameters, interaction_mapping)
    assert (run["pending_applied"], run["labels_changed"]) == (20, 5)
    changes = store.table("label_changes").sort_values("change_id")
    assert changes["previous_state"].tolist() == ["pending"] * 5 + ["stored"] * 5
    assert set(changes["source_file"]) == {"outcomes_2.csv"}
    assert changes["lead_id"].tolist() == [*flipped.index, *flipped.index]
    assert (changes["new_label"].to_numpy() == flipped[LABEL].astype(int).tolist() * 2).all()
    assert (labels(store).loc[flipped.index] == flipped[LABEL].astype(int)).all()
