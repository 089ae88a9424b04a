"""Fixtures of the store's tests: an empty store on SQLite and on PostgreSQL, and landing files
written at test time as real feeds write them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lead_scoring.store import LeadStore

LABEL = "app_complete_flag"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """An empty database's URL: the embedded SQLite file, and PostgreSQL where a server starts."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").new_database()
    return f"sqlite:///{tmp_path / 'store' / 'lead_store.db'}"


@pytest.fixture
def store(store_url) -> LeadStore:
    return LeadStore(store_url)


def crm_export(raw_leads: pd.DataFrame, start: int, stop: int, label: bool = False) -> pd.DataFrame:
    """Leads ``start`` to ``stop`` as a CRM saves them with ``to_csv()``: pandas' index, and a
    ``lead_id`` column with the same ids (so any key rule reads the same id)."""
    fields = raw_leads.drop(columns=["Unnamed: 0", *([] if label else [LABEL])])
    fields = fields.iloc[start:stop]
    ids = [f"crm-{n}" for n in range(start, stop)]
    return fields.set_axis(ids).assign(lead_id=ids)[["lead_id", *fields.columns]]


def outcome_export(raw_leads: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    """Those leads' outcomes as the CRM exports them: index, lead_id, app_complete_flag."""
    ids = [f"crm-{n}" for n in range(start, stop)]
    return pd.DataFrame(
        {"lead_id": ids, LABEL: raw_leads[LABEL].iloc[start:stop].to_numpy()}, index=ids
    )


def write(frame: pd.DataFrame, path: Path) -> Path:
    """Written by ``to_csv()`` with its index, as the feeds write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path)
    return path
