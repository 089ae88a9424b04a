"""`kedro run --pipeline=ingest` as a scheduler runs it: a normal run, a store another run holds,
and a LEAD_STORE_URL that names no database. One project copy, three kedro processes."""

from __future__ import annotations

import pytest

from lead_scoring.store import LeadStore
from tests.conftest import copy_project, run_kedro
from tests.store.conftest import crm_export, write

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("ingest_run"))


def _errors(result) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if "Error" in line]


def test_ingest_stores_every_file_and_says_so(project, raw_leads, monkeypatch):
    landing = project / "data" / "01_raw" / "landing"
    write(crm_export(raw_leads, 0, 100), landing / "day1.csv")
    write(crm_export(raw_leads, 100, 150), landing / "DAY2.CSV")
    monkeypatch.delenv("LEAD_STORE_URL", raising=False)
    result = run_kedro(project, "run", "--pipeline=ingest", "--params=landing.settle_seconds=0")
    output = result.stdout + result.stderr
    assert "Ingested 2 file(s)" in output and "Traceback" not in output
    # Files read without a quarantined row are named in the log file only.
    assert "day1.csv: 100 rows read" not in output
    assert "day1.csv: 100 rows read" in (project / "info.log").read_text()
    store = LeadStore(f"sqlite:///{project / 'data' / '03_primary' / 'lead_store.db'}")
    assert store.count("leads") == 150


def test_a_run_beside_another_waits_then_exits_0_in_one_line(project, monkeypatch):
    monkeypatch.delenv("LEAD_STORE_URL", raising=False)
    holder = LeadStore(f"sqlite:///{project / 'data' / '03_primary' / 'lead_store.db'}")
    holder.lock.acquire(timeout=5)
    try:
        result = run_kedro(project, "run", "--pipeline=ingest", "--params=store_lock_timeout=1")
    finally:
        holder.lock.release()
    output = result.stdout + result.stderr
    busy = [line for line in output.splitlines() if "Another run holds the lead store" in line]
    assert result.returncode == 0 and len(busy) == 1
    assert "Traceback" not in output and "Ingested" not in output


def test_a_bad_lead_store_url_is_one_line_naming_the_variable(project, monkeypatch):
    monkeypatch.setenv("LEAD_STORE_URL", "garbage")
    result = run_kedro(project, "run", "--pipeline=ingest", check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output
    errors = _errors(result)
    assert len(errors) == 1 and "LEAD_STORE_URL" in errors[0] and "garbage" in errors[0]
