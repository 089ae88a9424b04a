"""The loop with its store in PostgreSQL, chosen by LEAD_STORE_URL as production would.

Where no PostgreSQL server can start (tests/postgres.py), the test skips.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lead_scoring.datasets import LeadStore, RawLeadsDataset
from tests.conftest import generate_export, run_kedro

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

LEADS = 400


@pytest.fixture(scope="module")
def postgres_loop(
    trained_project, tmp_path_factory, postgres, parameters, city_tiers, interaction_mapping
) -> dict:
    """One export landed, ingested twice and scored twice, the store in a PostgreSQL database."""
    project = Path(
        shutil.copytree(
            trained_project,
            tmp_path_factory.mktemp("postgres_loop") / "project",
            ignore=shutil.ignore_patterns("__pycache__", "*.log"),
        )
    )
    landing = project / "data" / "01_raw" / "landing"
    landing.mkdir(parents=True)
    export = generate_export(parameters, city_tiers, interaction_mapping, n_leads=LEADS, seed=11)
    RawLeadsDataset(filepath=str(landing / "day_leads.csv")).save(
        export.drop(columns=["app_complete_flag"])
    )
    url = postgres.new_database()
    steps: dict = {"url": url, "rows": LEADS}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LEAD_STORE_URL", url)
        for name, pipeline in [
            ("ingest", "ingest"),
            ("ingest again", "ingest"),
            ("score", "score_new"),
            ("score again", "score_new"),
        ]:
            steps[name] = run_kedro(project, "run", f"--pipeline={pipeline}")
            store = LeadStore(url)
            steps[f"{name} store"] = {
                table: store.table(table) for table in ("leads", "scored_leads", "ingest_log")
            }
            store.engine.dispose()
    steps["sqlite file"] = project / "data" / "03_primary" / "lead_store.db"
    return steps


def test_leads_are_stored_once_and_scored_once_in_postgresql(postgres_loop):
    loop = postgres_loop
    stored = loop["ingest store"]["leads"]
    log = loop["ingest store"]["ingest_log"]
    assert len(log) == 1
    assert log["leads_new"].iat[0] + log["quarantined"].iat[0] == loop["rows"]
    assert len(stored) == log["leads_new"].iat[0] and stored["lead_id"].is_unique
    scored = loop["score store"]["scored_leads"]
    assert sorted(scored["lead_id"]) == sorted(stored["lead_id"])
    assert set(scored["model_version"]) == {"1"}
    for first, again in [("ingest", "ingest again"), ("score", "score again")]:
        for table, frame in loop[f"{again} store"].items():
            pd.testing.assert_frame_equal(frame, loop[f"{first} store"][table])
    assert "Nothing new to score" in loop["score again"].stdout + loop["score again"].stderr
    # The URL from the environment wins: no SQLite store was made beside it.
    assert not loop["sqlite file"].exists()
