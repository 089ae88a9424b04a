"""Airflow in tests: a throwaway AIRFLOW_HOME, never ~/airflow, and `airflow` run as a user would."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lead_scoring.local_airflow import settings
from tests.conftest import kedro_env

AIRFLOW = Path(sys.executable).with_name("airflow")
DAGS_FOLDER = Path(__file__).resolve().parents[2] / "airflow_dags"
DAG_IDS = ("lead_scoring_ingest", "lead_scoring_score", "lead_scoring_train")

# Importing Airflow writes its configuration under $AIRFLOW_HOME: keep it out of the user's home,
# and out of /tmp once the tests are done.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow_home_")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)


def airflow_env(home: Path, dags_folder: Path = DAGS_FOLDER) -> dict[str, str]:
    """The environment of an `airflow` command: `make airflow`'s settings with this home."""
    env = {k: v for k, v in kedro_env().items() if not k.startswith("AIRFLOW__")}
    return {**env, **settings(home, dags_folder)}


def run_airflow(
    home: Path, *args: str, dags_folder: Path = DAGS_FOLDER, check: bool = True, timeout: int = 600
):
    """Run ``airflow <args>`` with ``home`` as AIRFLOW_HOME, from outside any project.

    The tasks import the project from the DAG folder's project, as from a worker where it is
    installed, not from wherever the test runner's PYTHONPATH points.
    """
    env = {**airflow_env(home, dags_folder), "PYTHONPATH": str(dags_folder.parent / "src")}
    result = subprocess.run(
        [str(AIRFLOW), *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"airflow {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


@pytest.fixture(scope="session")
def dag_bag():
    """The project's DAG folder as Airflow's DAG processor parses it."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))
