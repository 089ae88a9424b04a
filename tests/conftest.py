"""Shared fixtures: the project's configuration, small generated exports and a trained project copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from tests.postgres import postgres_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
REAL_EXPORT = SHARED / "real" / "leadscoring_inference.csv"
REAL_LABELLED = SHARED / "real" / "leadscoring_labelled_sample.csv"
KEDRO = Path(sys.executable).with_name("kedro")
SMALL_EXPORT_LEADS = 20_000

needs_shared = pytest.mark.skipif(not REAL_EXPORT.exists(), reason="../shared is not present")


def kedro_env() -> dict[str, str]:
    """Environment of a kedro subprocess: no telemetry, the project's own tracking store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(KEDRO_DISABLE_TELEMETRY="1", DO_NOT_TRACK="1", MLFLOW_DISABLE_TELEMETRY="true")
    return env


def run_kedro(project: Path, *args: str, check: bool = True, timeout: int = 600):
    """Run ``kedro <args>`` in ``project`` as a user would, returning the completed process."""
    result = subprocess.run(
        [str(KEDRO), *args],
        cwd=project,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kedro {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def copy_project(destination: Path) -> Path:
    """A fresh copy of the project's configuration and reference data, without runs or outputs."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("conf", "notebooks", "src"):
        shutil.copytree(PROJECT_ROOT / name, destination / name, dirs_exist_ok=True, ignore=ignore)
    shutil.rmtree(destination / "conf" / "local", ignore_errors=True)
    (destination / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, destination / name)
    for layer in sorted((PROJECT_ROOT / "data").iterdir()):
        (destination / "data" / layer.name).mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        PROJECT_ROOT / "data" / "01_raw" / "reference",
        destination / "data" / "01_raw" / "reference",
    )
    return destination


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def parameters() -> dict:
    """The project's parameters, as Kedro loads them."""
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="local"
    )
    return loader["parameters"]


@pytest.fixture(scope="session")
def interaction_mapping() -> pd.DataFrame:
    return pd.read_csv(PROJECT_ROOT / "data" / "01_raw" / "reference" / "interaction_mapping.csv")


@pytest.fixture(scope="session")
def city_tiers() -> pd.DataFrame:
    return pd.read_csv(PROJECT_ROOT / "data" / "01_raw" / "reference" / "city_tiers.csv")


@pytest.fixture(scope="session")
def small_export(tmp_path_factory) -> Path:
    """A small labelled export written by the project's own generate pipeline."""
    project = copy_project(tmp_path_factory.mktemp("generate_project"))
    path = project / "data" / "01_raw" / "small_leads.csv"
    run_kedro(
        project,
        "run",
        "--pipeline=generate",
        f"--params=generate.n_leads={SMALL_EXPORT_LEADS},generated_leads_path={path}",
    )
    return path


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, small_export) -> Path:
    """A project copy where `kedro run --pipeline=train` has run once on the small export."""
    project = copy_project(tmp_path_factory.mktemp("trained_project"))
    shutil.copy(small_export, project / "data" / "01_raw" / "leads.csv")
    # One backtest month: the tests read what a run writes, and three would triple its fitting.
    result = run_kedro(project, "run", "--pipeline=train", "--params=training.backtest.months=1")
    (project / "train_run.log").write_text(result.stdout + result.stderr)
    return project


def generate_export(parameters: dict, city_tiers, interaction_mapping, n_leads: int, seed: int = 7):
    """A labelled export from the project's generate pipeline, run in process."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from lead_scoring.pipelines.generate import create_pipeline

    settings = {**parameters["generate"], "n_leads": n_leads, "seed": seed}
    catalog = DataCatalog(
        {
            "city_tiers": MemoryDataset(city_tiers),
            "interaction_mapping": MemoryDataset(interaction_mapping),
            "params:generate": MemoryDataset(settings),
        }
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    return outputs["generated_raw_leads"].load()


@pytest.fixture(scope="session")
def raw_export_path(tmp_path_factory, parameters, city_tiers, interaction_mapping) -> Path:
    """A 3,000-lead labelled export on disk, in the real export format."""
    from lead_scoring.datasets import RawLeadsDataset

    path = tmp_path_factory.mktemp("exports") / "leads.csv"
    frame = generate_export(parameters, city_tiers, interaction_mapping, n_leads=3_000)
    RawLeadsDataset(filepath=str(path)).save(frame)
    return path


@pytest.fixture
def raw_leads(raw_export_path) -> pd.DataFrame:
    """The 3,000-lead export as ingestion receives it: every cell as text."""
    from lead_scoring.datasets import RawLeadsDataset

    return RawLeadsDataset(filepath=str(raw_export_path)).load()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server (tests/postgres.py); tests using it skip where none starts."""
    yield from postgres_server()
