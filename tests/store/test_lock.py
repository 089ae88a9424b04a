"""One writer per store: the run lock on SQLite (a lock file) and PostgreSQL (an advisory lock).

Two runs at once are two ingests, or two score_new, on the same store: the second waits for the
first, so ingest_log, the change records and score_log are exact.
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from lead_scoring.store import LeadStore, ScoreBatch, StoreBusyError
from tests.pipelines.ingest.test_landing_files import ingest
from tests.store.conftest import crm_export, write


def test_a_second_run_waits_for_the_lock_then_gives_up_in_one_line(store_url):
    first, second = LeadStore(store_url), LeadStore(store_url)
    first.lock.acquire(timeout=1)
    started = time.monotonic()
    with pytest.raises(StoreBusyError, match="Another run holds the lead store") as busy:
        second.lock.acquire(timeout=0.5)
    assert time.monotonic() - started >= 0.5 and "\n" not in str(busy.value)
    first.lock.release()
    second.lock.acquire(timeout=1)
    assert second.lock.held
    second.lock.release()


def test_the_lock_of_a_killed_run_is_free(store_url):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from lead_scoring.store import LeadStore; "
            "store = LeadStore(sys.argv[1]); store.lock.acquire(5); print('held', flush=True); "
            "time.sleep(60)",
            store_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = iter(holder.stdout.readline, "")
        assert any(line.strip() == "held" for line in lines)
        with pytest.raises(StoreBusyError):
            LeadStore(store_url).lock.acquire(timeout=0.3)
    finally:
        holder.kill()
        holder.wait()
    store = LeadStore(store_url)
    store.lock.acquire(timeout=5)
    store.lock.release()


def _locked(url: str, work) -> None:
    """A run as the store's lock hook brackets it: its own store object, the lock, the work."""
    store = LeadStore(url)
    store.lock.acquire(timeout=60)
    try:
        work(store)
    finally:
        store.lock.release()


def test_two_ingests_at_once_log_each_file_once_and_exactly(
    tmp_path, store, raw_leads, parameters, interaction_mapping
):
    landing = tmp_path / "landing"
    for day in range(6):
        write(crm_export(raw_leads, 50 * day, 50 * day + 50), landing / f"day{day}.csv")
    runs = [
        threading.Thread(
            target=_locked,
            args=(store.url, lambda s: ingest(landing, s, parameters, interaction_mapping)),
        )
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    log = store.table("ingest_log")
    assert sorted(log["source_file"]) == [f"day{day}.csv" for day in range(6)]
    assert log["leads_new"].tolist() == [50] * 6
    assert store.count("leads") == 300 and store.count("lead_changes") == 0


def test_two_score_runs_at_once_never_both_claim_a_lead(
    store, raw_leads, tmp_path, parameters, interaction_mapping
):
    write(crm_export(raw_leads, 0, 40), tmp_path / "landing" / "day.csv")
    ingest(tmp_path / "landing", store, parameters, interaction_mapping)

    def score(s: LeadStore) -> None:
        due = s.leads_to_score("lead_scoring", "1", window_days=30)
        time.sleep(0.2)  # the model's time: the other run tries to start meanwhile
        scores = pd.DataFrame(
            {
                "lead_id": due["lead_id"],
                "model_name": "lead_scoring",
                "model_version": "1",
                "content_hash": due["content_hash"],
                "run_id": f"run-{threading.get_ident()}",
            }
        )
        run = {
            "run_id": f"run-{threading.get_ident()}",
            "model_name": "lead_scoring",
            "model_version": "1",
            "leads_scored": len(due),
        }
        s.write_scores(ScoreBatch(scores, pd.DataFrame(), run if len(due) else None))

    runs = [threading.Thread(target=_locked, args=(store.url, score)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    log = store.table("score_log")
    assert log["leads_scored"].tolist() == [40]
    assert store.table("scored_leads")["run_id"].nunique() == 1
