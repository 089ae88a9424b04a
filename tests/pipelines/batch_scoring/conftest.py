"""Inference fixtures: a copy of the trained project that has scored a doctored export once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import built_once, run_kedro, tracking_store  # noqa: F401 (re-exported)

N_LEADS = 3_000
# What a sales rep receives for each scored lead, in this order.
SCORED_COLUMNS = [
    "lead_id",
    "created_date",
    "probability",
    "score",
    "tier",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_version",
]
# Rows (0-based, within the first 100 so the server test posts them too) and what is done to them.
UNSEEN_LEVEL_ROW = 3
MISSING_OPTIONAL = {5: ["city_mapped"], 8: ["total_leads_droppped", "referred_lead"]}
BROKEN = {
    30: ("created_date", "yesterday"),
    41: ("referred_lead", "7"),
    52: ("first_platform_c", "Platform X"),
    63: ("total_leads_droppped", "-3"),
}
DUPLICATED_ROWS = [10, 11]


def predictions_frame(statuses: list[str]) -> pd.DataFrame:
    """Rows shaped like the registered model's answer, one per status."""
    n = len(statuses)
    scored = np.array([s == "scored" for s in statuses])
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_date": ["2022-01-01 10:00:00"] * n,
            "probability": np.where(scored, np.linspace(0.1, 0.9, n), np.nan),
            "score": np.where(scored, 50, np.nan),
            "tier": np.where(scored, "warm", None),
            "reason_1": np.where(scored, "referred lead: yes (+)", None),
            "reason_2": np.where(scored, "platform: Level7 (-)", None),
            "reason_3": np.where(scored, "checked 4 courses (+)", None),
            "status": statuses,
            "quarantine_reason": np.where(scored, None, "created_date: timestamp (got x)"),
            "model_version": "3",
        }
    )


def copy_trained_project(trained_project: Path, destination: Path) -> Path:
    """A private copy of the trained project, so scoring runs never touch the shared one."""
    ignore = shutil.ignore_patterns("__pycache__", "*.log")
    return Path(shutil.copytree(trained_project, destination, ignore=ignore))


def doctored_export(small_export: Path) -> pd.DataFrame:
    """The first leads of the small export, label kept, with blanks, an unseen level, broken
    rows and exact duplicates: every case a batch must survive."""
    raw = pd.read_csv(small_export, dtype=str, keep_default_na=False, nrows=N_LEADS)
    raw.loc[UNSEEN_LEVEL_ROW, "first_platform_c"] = "Level999"
    for row, columns in MISSING_OPTIONAL.items():
        raw.loc[row, columns] = ""
    for row, (column, value) in BROKEN.items():
        raw.loc[row, column] = value
    raw = pd.concat([raw, raw.loc[DUPLICATED_ROWS]], ignore_index=True)
    # The export format: the index column's header is empty.
    return raw.rename(columns={"Unnamed: 0": ""})


@pytest.fixture(scope="session")
def new_leads(small_export) -> pd.DataFrame:
    return doctored_export(small_export)


@pytest.fixture(scope="session")
def scored_project(trained_project, new_leads, tmp_path_factory) -> Path:
    """A trained project copy after `kedro run --pipeline=batch_scoring` on the doctored export.

    Built once for every worker, like the trained project: tests read it or copy it.
    """

    def score(destination: Path) -> None:
        project = copy_trained_project(trained_project, destination / "project")
        new_leads.to_csv(project / "data" / "01_raw" / "new_leads.csv", index=False)
        result = run_kedro(project, "run", "--pipeline=batch_scoring")
        (project / "inference_run.log").write_text(result.stdout + result.stderr)

    return built_once(tmp_path_factory, "scored", score) / "project"
