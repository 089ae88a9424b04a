"""kedro-mlflow's hook starts only for runs that use MLflow; a quick run imports no modelling library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from kedro.framework.hooks import _create_hook_manager
from kedro.framework.hooks.manager import _register_hooks, _register_hooks_entry_points
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from lead_scoring.lazy_mlflow import LazyMlflowHook, _uses_mlflow_datasets, needs_mlflow
from tests.conftest import copy_project, kedro_env

HEAVY = ("mlflow", "kedro_mlflow.mlflow", "catboost", "sklearn", "scipy", "matplotlib", "pandera")

# `kedro run` in a fresh interpreter, as the CLI runs it but without the CLI's plugin commands
# (kedro-mlflow's import MLflow for every `kedro` command, `kedro --help` included).
RUN_INGEST = """
import json, sys
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(Path.cwd())
with KedroSession.create(project_path=Path.cwd()) as session:
    session.run(pipeline_names=["ingest"])
print(json.dumps(sorted(name for name in sys.modules if name in HEAVY)))
"""


def _describe(leads) -> str:
    return str(len(leads))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("lazy_mlflow") / "project")


def test_a_run_with_nothing_to_ingest_imports_no_modelling_library(project):
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{RUN_INGEST}"],
        cwd=project,
        env={**kedro_env(), "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "No new landing file" in result.stdout
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    # kedro-mlflow did not set MLflow up: it creates the tracking store's file when it does.
    assert not (project / "mlflow.db").exists()


def test_the_lazy_hook_takes_kedro_mlflows_place_once():
    from lead_scoring.settings import DISABLE_HOOKS_FOR_PLUGINS, HOOKS

    manager = _create_hook_manager()
    _register_hooks(manager, HOOKS)
    _register_hooks_entry_points(manager, DISABLE_HOOKS_FOR_PLUGINS)
    kinds = [type(plugin).__module__ for plugin in manager.get_plugins()]
    assert isinstance(manager.get_plugin("mlflow_hook"), LazyMlflowHook)
    assert "kedro_mlflow.framework.hooks.mlflow_hook" not in kinds


@pytest.mark.parametrize(
    ("names", "needed"),
    [
        (None, True),  # a notebook's context, or `kedro run` with no pipeline: the train run
        (["__default__"], True),
        (["train"], True),
        (["score_new"], True),  # untracked by kedro-mlflow, yet reads the registry
        (["ingest"], False),
        (["generate_daily", "ingest"], False),
        (["ingest", "promote"], True),
    ],
)
def test_a_run_needs_mlflow_unless_every_pipeline_does_without(names, needed):
    assert needs_mlflow(names) is needed


def test_a_pipeline_with_an_mlflow_dataset_starts_mlflow_whatever_its_name(project):
    catalog = DataCatalog.from_config(
        {
            "model_report": {
                "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
                "dataset": {"type": "text.TextDataset", "filepath": str(project / "r.html")},
            },
            "leads": {"type": "pandas.CSVDataset", "filepath": str(project / "leads.csv")},
        }
    )
    reads_leads = Pipeline([Node(_describe, "leads", "count", name="count")])
    reports = Pipeline([Node(_describe, "leads", "model_report", name="report")])
    assert not _uses_mlflow_datasets(reads_leads, catalog)
    assert _uses_mlflow_datasets(reports, catalog)


@pytest.mark.parametrize(("requested", "set_up"), [(["train"], True), (["ingest"], False)])
def test_kedro_mlflow_sets_mlflow_up_when_the_context_is_made_for_a_tracked_run(
    tmp_path, monkeypatch, requested, set_up
):
    project = copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    bootstrap_project(project)
    pipelines.set_requested(requested)
    try:
        with KedroSession.create(project_path=project) as session:
            context = session.load_context()
        assert hasattr(context, "mlflow") is set_up
        if set_up:
            # conf/base/mlflow.yml's store, the experiment kedro-mlflow's set-up creates in it.
            assert mlflow.get_tracking_uri() == f"sqlite:///{project.as_posix()}/mlflow.db"
            assert mlflow.get_experiment_by_name("lead_scoring") is not None
        else:
            assert not (project / "mlflow.db").exists()
    finally:
        pipelines.set_requested(None)
        mlflow.set_tracking_uri(None)
