"""A lead store with two model versions' scores, outcomes set in parts, and a tracking store.

The store creates its own schema (``scored_leads.role``, ``realised_performance``: the store's
migrations); the rows are written with the store's table objects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from mlflow.tracking import MlflowClient

from lead_scoring.contract import (
    CHALLENGER,
    CHAMPION,
    CITY,
    LABEL,
    LEAD_ID,
    MEDIUM,
    PLATFORM,
    SOURCE,
)
from lead_scoring.store import LeadStore, tables

LEADS_PER_MONTH = 400
MONTHS = ["2022-01", "2022-02"]
MODEL = "lead_scoring"


def _leads(rng: np.random.Generator) -> pd.DataFrame:
    """Leads of two months with a hidden completion chance that the models see, one better."""
    n = LEADS_PER_MONTH * len(MONTHS)
    created = pd.concat(
        [
            pd.Series(pd.date_range(f"{month}-01", periods=LEADS_PER_MONTH, freq="90min"))
            for month in MONTHS
        ],
        ignore_index=True,
    )
    chance = rng.uniform(0.02, 0.98, n)
    return pd.DataFrame(
        {
            LEAD_ID: [f"L{i:05d}" for i in range(n)],
            "created_date": created.dt.strftime("%Y-%m-%d %H:%M:%S"),
            CITY: rng.choice(
                ["mumbai", "pune", "nagpur", "unknownville"], n, p=[0.4, 0.3, 0.25, 0.05]
            ),
            # Level9 is rare: it folds into "other".
            PLATFORM: rng.choice(["Level0", "Level1", "Level9"], n, p=[0.6, 0.38, 0.02]),
            MEDIUM: rng.choice(["Level2", "Level5"], n),
            SOURCE: rng.choice(["Level3", "Level4"], n),
            "chance": chance,
            "outcome": (rng.uniform(size=n) < chance).astype("int64"),
        }
    )


def _scores(leads: pd.DataFrame, version: str, role: str, noise: float, rng) -> pd.DataFrame:
    probability = np.clip(leads["chance"] + rng.normal(0, noise, len(leads)), 0.001, 0.999)
    tier = np.where(probability >= 0.7, "hot", np.where(probability < 0.25, "cold", "warm"))
    return pd.DataFrame(
        {
            LEAD_ID: leads[LEAD_ID],
            "model_name": MODEL,
            "model_version": version,
            "role": role,
            "scored_at": "2022-03-01T08:00:00+00:00",
            "probability": probability,
            "score": np.rint(probability * 100).astype("int64"),
            "tier": tier,
            "created_date": leads["created_date"],
            "content_hash": "h",
            "run_id": f"run-{version}",
        }
    )


class LoopStore:
    """The test store, and the hidden truth its outcomes are set from."""

    def __init__(self, url: str, leads: pd.DataFrame) -> None:
        self.url = url
        self.store = LeadStore(url)
        self.leads = leads
        fields = ["created_date", CITY, PLATFORM, MEDIUM, SOURCE]
        with self.store.engine.begin() as connection:
            connection.execute(
                sa.insert(tables.leads), leads[[LEAD_ID, *fields]].to_dict("records")
            )

    def add_scores(self, scores: pd.DataFrame) -> None:
        with self.store.engine.begin() as connection:
            connection.execute(sa.insert(tables.scored_leads), scores.to_dict("records"))

    def land_outcomes(self, month: str) -> None:
        """The outcomes of the leads created in ``month`` arrive."""
        arrived = self.leads.loc[self.leads["created_date"].str.startswith(month)]
        table = tables.leads
        with self.store.engine.begin() as connection:
            connection.execute(
                sa.update(table)
                .where(table.c[LEAD_ID] == sa.bindparam("key"))
                .values({LABEL: sa.bindparam("label")}),
                [
                    {"key": k, "label": int(v)}
                    for k, v in zip(arrived[LEAD_ID], arrived["outcome"], strict=True)
                ],
            )


def build_loop_store(url: str) -> LoopStore:
    """Version 1 champion and version 2 challenger scored every lead; no outcome known yet."""
    rng = np.random.default_rng(21)
    leads = _leads(rng)
    loop = LoopStore(url, leads)
    loop.add_scores(_scores(leads, "1", CHAMPION, noise=0.15, rng=rng))
    loop.add_scores(_scores(leads, "2", CHALLENGER, noise=0.35, rng=rng))
    return loop


@pytest.fixture
def loop_store(tmp_path: Path) -> LoopStore:
    """The test store in SQLite, the store's default."""
    return build_loop_store(f"sqlite:///{tmp_path / 'lead_store.db'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """An empty database's URL: the embedded SQLite file, and PostgreSQL where a server starts."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").new_database()
    return f"sqlite:///{tmp_path / 'store' / 'lead_store.db'}"


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch) -> MlflowClient:
    """A tracking store with versions 1 and 2 registered, each run holding its holdout figures."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment(
        "lead_scoring", artifact_location=str(tmp_path / "mlruns")
    )
    client.create_registered_model(MODEL)
    for roc_auc, hot_precision in [(0.81, 0.86), (0.78, 0.83)]:
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "holdout.roc_auc", roc_auc)
        client.log_metric(run.info.run_id, "holdout.hot_precision", hot_precision)
        client.set_terminated(run.info.run_id)
        client.create_model_version(
            MODEL, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
    return client
