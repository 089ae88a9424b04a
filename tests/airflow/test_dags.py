"""The DAG files in airflow_dags/: they import, and schedule each pipeline as one retried task."""

from __future__ import annotations

import ast
from datetime import timedelta

import jinja2
import pytest
import yaml
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable

from tests.airflow.conftest import DAG_IDS, DAGS_FOLDER

PROJECT_ROOT = DAGS_FOLDER.parent
# DAG id: (schedule, the Kedro pipelines its tasks run, in order).
PIPELINES = {
    "lead_scoring_ingest": ("@daily", ["ingest", "realised_performance"]),
    "lead_scoring_score": ("@hourly", ["score_new"]),
    "lead_scoring_train": ("@monthly", ["promote", "train_from_store"]),
}
RETRAIN_REQUEST = Asset("lead_scoring_retrain_request")
# The DAGs whose runs may alert, and the tasks that turn an alert into a retrain request.
REQUESTING = {"lead_scoring_ingest", "lead_scoring_score"}
RETRAIN_TASKS = ["request_retrain", "alert"]


def test_every_dag_imports_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert set(dag_bag.dag_ids) == set(DAG_IDS)


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_each_task_runs_one_whole_pipeline_in_order_one_dag_run_at_a_time(dag_bag, dag_id):
    dag = dag_bag.dags[dag_id]
    _, pipelines = PIPELINES[dag_id]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    # One task per pipeline: one Kedro session, hence one MLflow run per training.
    tail = RETRAIN_TASKS if dag_id in REQUESTING else []
    assert [task.task_id for task in dag.topological_sort()] == [*pipelines, *tail]
    for before, after in zip(pipelines, pipelines[1:], strict=False):
        assert dag.get_task(after).upstream_task_ids == {before}


def test_the_train_dag_runs_monthly_and_on_a_retrain_request(dag_bag):
    for dag_id in ("lead_scoring_ingest", "lead_scoring_score"):
        assert dag_bag.dags[dag_id].schedule == PIPELINES[dag_id][0]
    train = dag_bag.dags["lead_scoring_train"]
    assert isinstance(train.timetable, AssetOrTimeSchedule)
    assert train.timetable.timetable == CronTriggerTimetable("@monthly", timezone="UTC")
    assert list(train.timetable.asset_condition.objects) == [RETRAIN_REQUEST]


@pytest.mark.parametrize("dag_id", sorted(REQUESTING))
def test_a_run_s_alert_requests_the_retrain_then_fails_the_alert_task(dag_bag, dag_id):
    dag = dag_bag.dags[dag_id]
    request, alert = (dag.get_task(name) for name in RETRAIN_TASKS)
    assert request.outlets == [RETRAIN_REQUEST] and request.inlets == [RETRAIN_REQUEST]
    # Every pipeline's alert reaches both; a skipped request (no alert, cooldown) skips nothing.
    assert request.upstream_task_ids == set(PIPELINES[dag_id][1])
    assert alert.upstream_task_ids == {*PIPELINES[dag_id][1], "request_retrain"}
    assert alert.trigger_rule == "none_failed"


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_each_task_retries_with_exponential_backoff(dag_bag, dag_id):
    for task in dag_bag.dags[dag_id].tasks:
        assert task.retries >= 2
        assert task.retry_delay == timedelta(minutes=2)
        assert task.retry_exponential_backoff == 2.0
        assert task.retry_delay < task.max_retry_delay <= task.execution_timeout


def test_the_dag_files_are_what_make_dags_writes_from_the_template_and_config():
    # kedro-airflow renders with these Jinja settings and the merged `default` + pipeline config.
    config = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "airflow.yml").read_text())
    loader = jinja2.FileSystemLoader(DAGS_FOLDER)
    template = jinja2.Environment(autoescape=True, loader=loader, lstrip_blocks=True).get_template(
        "kedro_dag_template.j2"
    )
    for pipeline in ("ingest", "score_new", "train_from_store"):
        rendered = template.render(
            env="local",
            pipeline_name=pipeline,
            package_name="lead_scoring",
            **{**config["default"], **config[pipeline]},
        )
        path = DAGS_FOLDER / f"lead_scoring_{pipeline}_dag.py"
        assert path.read_text() == rendered, f"{path.name} is stale: run `make dags`"


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
