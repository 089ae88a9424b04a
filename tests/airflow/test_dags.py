"""The DAG files in airflow_dags/: they import, and schedule each pipeline as one retried task."""

from __future__ import annotations

import ast
from datetime import timedelta

import pytest

from tests.airflow.conftest import DAG_IDS, DAGS_FOLDER

SCHEDULES = {
    "lead_scoring_ingest": ("@daily", "ingest"),
    "lead_scoring_score": ("@hourly", "score_new"),
    "lead_scoring_train": ("@monthly", "train_from_store"),
}


def test_every_dag_imports_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert set(dag_bag.dag_ids) == set(DAG_IDS)


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_each_dag_runs_its_whole_pipeline_as_one_task_one_run_at_a_time(dag_bag, dag_id):
    dag = dag_bag.dags[dag_id]
    schedule, pipeline = SCHEDULES[dag_id]
    assert dag.schedule == schedule
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    # One task per pipeline: one Kedro session, hence one MLflow run per training.
    assert [task.task_id for task in dag.tasks] == [pipeline]


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_each_task_retries_with_exponential_backoff(dag_bag, dag_id):
    (task,) = dag_bag.dags[dag_id].tasks
    assert task.retries >= 2
    assert task.retry_delay == timedelta(minutes=2)
    assert task.retry_exponential_backoff == 2.0
    assert task.retry_delay < task.max_retry_delay <= task.execution_timeout


def _top_level_imports(source: str) -> set[str]:
    modules = set()
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom) and statement.module:
            modules.add(statement.module.split(".")[0])
    return modules


def test_parsing_a_dag_file_imports_neither_kedro_nor_the_project():
    # The DAG processor parses every file every few minutes; Kedro and the model load in the task.
    paths = sorted(DAGS_FOLDER.glob("*_dag.py"))
    assert paths
    for path in paths:
        imports = _top_level_imports(path.read_text())
        assert "airflow" in imports
        assert imports.isdisjoint({"kedro", "lead_scoring", "mlflow", "catboost"}), path.name
