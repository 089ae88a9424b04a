"""Projects with two real registered models, run in process through Kedro sessions.

The trained project (tests/conftest.py) holds version 1, fitted on a generated export. Version 2
is fitted by the same `train` pipeline on that export with its labels shuffled: a real model that
ranks leads no better than chance, so on realised outcomes it loses to version 1 when it
challenges and beats nothing when it is champion. Swapping the aliases gives a better challenger.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from lead_scoring.contract import LABEL
from lead_scoring.datasets import LeadStore, RawLeadsDataset
from tests.conftest import daily_exports, run_pipeline

LEADS_PER_DAY = 400
DAYS = ["2022-02-15", "2022-02-16", "2022-02-17"]


def copy_of(project: Path, destination: Path) -> Path:
    """A copy of a project with its registry, runs and data, to change without touching it."""
    return Path(
        shutil.copytree(project, destination, ignore=shutil.ignore_patterns("__pycache__", "*.log"))
    )


def registry(project: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def alias_version(project: Path, alias: str) -> str | None:
    try:
        return str(registry(project).get_model_version_by_alias("lead_scoring", alias).version)
    except mlflow.exceptions.MlflowException:
        return None


def store_of(project: Path) -> LeadStore:
    return LeadStore(f"sqlite:///{project / 'data' / '03_primary' / 'lead_store.db'}")


def land(project: Path, *files: Path) -> None:
    landing = project / "data" / "01_raw" / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    # Landed a minute ago, as a delivery is by the time the scheduled ingest finds it: past the
    # settle time that defers files still being written.
    landed = time.time() - 60
    for file in files:
        os.utime(shutil.copy(file, landing), (landed, landed))


@pytest.fixture(scope="session")
def contenders_project(trained_project, tmp_path_factory) -> Path:
    """The trained project plus version 2, trained on shuffled labels: the challenger."""
    project = copy_of(trained_project, tmp_path_factory.mktemp("contenders") / "project")
    export = RawLeadsDataset(filepath=str(project / "data" / "01_raw" / "leads.csv")).load()
    shuffled = export.assign(
        **{LABEL: np.random.default_rng(3).permutation(export[LABEL].to_numpy())}
    )
    path = project / "data" / "01_raw" / "shuffled_leads.csv"
    RawLeadsDataset(filepath=str(path)).save(shuffled)
    with pytest.MonkeyPatch.context() as monkeypatch:
        run_pipeline(
            project,
            "train",
            monkeypatch,
            raw_leads_path=str(path),
            training={"backtest": {"months": 1}, "catboost": {"iterations": 200}},
        )
    daily_exports(
        project,
        project / "daily",
        first_day=DAYS[0],
        days=len(DAYS),
        leads_per_day=LEADS_PER_DAY,
        vary_volume=False,
    )
    return project


def partial_outcomes(source: Path, destination: Path, rows: int) -> Path:
    """The first ``rows`` outcomes of an outcome export, written as the export writes them."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    destination.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return destination
