"""Shared fixtures: the project's configuration, small generated exports and a trained project copy."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def run_pipeline(project: Path, pipeline: str, monkeypatch, **params) -> dict:
    """`kedro run --pipeline=<pipeline> --params=...` in process, in ``project``.

    For the steps that set a test up, not the CLI under test: no kedro process to start.
    """
    import mlflow
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    for name in ("MLFLOW_TRACKING_URI", "LEAD_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }.items():
        monkeypatch.setenv(name, value)
    # The store and the tracking URI resolve from the working directory's project.
    monkeypatch.chdir(project)
    bootstrap_project(project)
    try:
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            return session.run(pipeline_names=[pipeline])
    finally:
        # kedro-mlflow's artifact datasets re-enter the run each save, stacking it once per save;
        # a kedro process ends with it, a session in this process must empty the stack.
        while mlflow.active_run():
            mlflow.end_run()
        # kedro-mlflow's hook is one object per process and keeps the last run's id, which the
        # next session's nodes would reopen even where tracking is off (ingest, score_new).
        from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook

        mlflow_hook.run_id = None
        mlflow.set_tracking_uri(None)


def daily_exports(project: Path, folder: Path, **settings) -> Path:
    """Daily lead and outcome exports of ``project``'s generator in ``folder``, each day's
    outcomes written the same day beside its leads: the tests land them when they choose.

    Test data, not the CLI under test: generated in this process.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        run_pipeline(
            project,
            "generate_daily",
            monkeypatch,
            generate_daily={"outcome_delay_days": 0, **settings},
            landing_path=str(folder),
        )
    return folder


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


@contextmanager
def tracking_store(project: Path) -> Iterator[Any]:
    """Point this process's MLflow client at ``project``'s store, then back as it was found.

    As found, not as ``mlflow.get_tracking_uri()`` reads it: that resolves an unset URI to the
    default store, and setting that back would pin every later test of the worker to it.
    """
    import mlflow
    from mlflow.tracking._tracking_service import utils

    found, variable = utils._tracking_uri, os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    try:
        yield mlflow.MlflowClient()
    finally:
        mlflow.set_tracking_uri(found)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        if variable is not None:
            os.environ["MLFLOW_TRACKING_URI"] = variable


@pytest.fixture(autouse=True)
def _mlflow_tracking_uri_as_found() -> Iterator[None]:
    """MLflow's process-wide tracking URI, and the variable it sets, as each test found them.

    A helper that reads the URI and "restores" it afterwards leaves it set; the next test on
    that worker then reads another store than its MLFLOW_TRACKING_URI names (which tests share
    a worker depends on the scheduling).
    """
    import mlflow
    from mlflow.tracking._tracking_service import utils

    found, variable = utils._tracking_uri, os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if utils._tracking_uri != found:
        mlflow.set_tracking_uri(found)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        if variable is not None:
            os.environ["MLFLOW_TRACKING_URI"] = variable


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


def _session_root(tmp_path_factory) -> Path:
    """The base temporary directory every xdist worker of this session shares."""
    base = tmp_path_factory.getbasetemp()
    # A worker's base is <session base>/popen-gwN; without xdist the base is the session's own.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _held(lock: Path) -> Iterator[None]:
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``build(directory)`` run once per test session, whichever xdist worker asks first.

    A session fixture is built once per worker: without this, each worker would generate and
    train its own project. The others wait on the lock and share the directory, read-only. A
    build that failed is not retried: each worker reports its error.
    """
    root = _session_root(tmp_path_factory)
    directory, done, failed = (root / name, root / f"{name}.done", root / f"{name}.failed")
    with _held(root / f"{name}.lock"):
        if failed.exists():
            pytest.fail(f"building {name} failed on another worker:\n{failed.read_text()}")
        if not done.exists():
            directory.mkdir()
            try:
                build(directory)
            except BaseException:
                failed.write_text(traceback.format_exc()[-8000:])
                raise
            done.touch()
    return directory


@pytest.fixture(scope="session")
def small_export(tmp_path_factory, parameters, city_tiers, interaction_mapping) -> Path:
    """A small labelled export written by the project's own generate pipeline.

    Run in process with the project's seed: the same bytes as `kedro run --pipeline=generate`
    with ``generate.n_leads`` set (compared when this replaced that process), one process fewer.
    """

    def generate(folder: Path) -> None:
        from lead_scoring.datasets import RawLeadsDataset

        seed = parameters["generate"]["seed"]
        frame = generate_export(
            parameters, city_tiers, interaction_mapping, n_leads=SMALL_EXPORT_LEADS, seed=seed
        )
        RawLeadsDataset(filepath=str(folder / "small_leads.csv")).save(frame)

    return built_once(tmp_path_factory, "small_export", generate) / "small_leads.csv"


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, small_export) -> Path:
    """A project copy where `kedro run --pipeline=train` has run once on the small export.

    Shared by every worker: tests read it, or copy it before they run anything in it.
    """

    def train(project: Path) -> None:
        copy_project(project)
        shutil.copy(small_export, project / "data" / "01_raw" / "leads.csv")
        # One backtest month: the tests read what a run writes, and three would triple its fitting.
        result = run_kedro(
            project, "run", "--pipeline=train", "--params=training.backtest.months=1"
        )
        (project / "train_run.log").write_text(result.stdout + result.stderr)

    return built_once(tmp_path_factory, "trained_project", train)


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


@pytest.fixture(scope="session")
def served_champion(trained_project, tmp_path_factory) -> Iterator[str]:
    """The URL of one `mlflow models serve` of the trained project's champion, for the session.

    The tests that use it run on one worker (see ``pytest_collection_modifyitems``): one server
    start instead of one per test module.
    """
    from tests.pipelines.batch_scoring.test_serving import model_server

    log = tmp_path_factory.mktemp("model_server") / "server.log"
    with model_server(trained_project, log) as url:
        yield url


# --- how xdist shares the work -------------------------------------------------------------
# With built_once, the folds of issue 23 and this scheduling, `make test` took 574 s of CPU
# instead of 801 s (user + system, 683 tests, measured on a shared 2-core machine).

# Session fixtures too costly to build on each worker and not kept on disk to share: a server,
# and the in-process train run of tests/pipelines/conftest.py.
SHARED_ON_ONE_WORKER = ("served_champion", "learned")


def _allowance(item: pytest.Item) -> float:
    """The seconds a test's module allows itself: its timeout mark, else the suite's."""
    mark = item.get_closest_marker("timeout")
    return float(mark.args[0]) if mark and mark.args else float(item.config.getini("timeout") or 0)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow files first, the longest allowance first; shared fixtures' tests on one worker.

    xdist hands files out in collection order (with --no-loadscope-reorder): a long file last
    leaves the other core idle at the end. The cost of a file is known only as its marks say.
    """
    for item in items:
        for name in SHARED_ON_ONE_WORKER:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
    cost: dict[Path, tuple[bool, float]] = {}
    for item in items:
        slow = item.get_closest_marker("slow") is not None
        before = cost.get(item.path, (False, 0.0))
        cost[item.path] = (before[0] or slow, max(before[1], _allowance(item)))
    # A stable sort: tests keep their order within a file.
    items.sort(key=lambda item: (not cost[item.path][0], -cost[item.path][1]))


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup`, with the tests outside any group kept together by file.

    xdist's own loadgroup hands each ungrouped test out alone, so a module's fixtures (a project
    copy, a kedro run) would be built on every worker; loadfile alone cannot group across files.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class FileOrGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = super()._split_scope(nodeid)
            return nodeid.split("::", 1)[0] if group == nodeid else group

    return FileOrGroupScheduling(config, log)
