"""What an Airflow task of this project runs: one whole Kedro pipeline in one Kedro session.

kedro-mlflow opens one MLflow run per Kedro session, so a task per node would split one training
into thirty runs; one task per pipeline keeps a training one run, as `kedro run` makes it.
The generated DAGs in airflow_dags/ import this module inside their task, so the DAG processor
parses them without importing Kedro, MLflow or CatBoost.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import yaml

from lead_scoring.errors import LeadScoringError

logger = logging.getLogger(__name__)

# Where the scheduler finds the project when the DAG files are not inside it.
PROJECT_PATH_VARIABLE = "LEAD_SCORING_PROJECT_PATH"


def project_path(default: str | Path) -> Path:
    """The project an Airflow task runs in: $LEAD_SCORING_PROJECT_PATH, else ``default``."""
    return Path(os.environ.get(PROJECT_PATH_VARIABLE) or default).expanduser().resolve()


def validation_stop(error: BaseException | None) -> LeadScoringError | None:
    """The project's own error behind ``error``, when retrying the same input cannot help."""
    from lead_scoring.hooks import TrackingUnreachableError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        # A tracking server that does not answer is a transient fault: a retry may find it up.
        if isinstance(error, TrackingUnreachableError):
            return None
        if isinstance(error, LeadScoringError):
            return error
        error = error.__cause__ or error.__context__
    return None


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    # The configuration resolves the project's stores from the working directory, as `kedro run`
    # started in the project root does; an Airflow worker starts wherever its service runs.
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_pipeline(pipeline_name: str, project: str | Path, env: str | None = None) -> None:
    """Run ``pipeline_name`` as `kedro run --pipeline` would; a validation stop fails the task
    without retries, any other error leaves the task to Airflow's retries."""
    from airflow.sdk.exceptions import AirflowFailException

    project = Path(project)
    with _working_directory(project):
        from kedro.framework.project import configure_logging
        from kedro.framework.session import KedroSession
        from kedro.framework.startup import bootstrap_project

        # Kedro set its logging up when the package was first imported, in the worker's folder:
        # the project's own configuration applies from here on, as under `kedro run`.
        logging_file = Path(os.environ.get("KEDRO_LOGGING_CONFIG") or "conf/logging.yml")
        if logging_file.exists():
            configure_logging(yaml.safe_load(logging_file.read_text(encoding="utf-8")))
        bootstrap_project(project)
        try:
            # Not `with KedroSession.create(...) as session`: Kedro types `__enter__` as
            # returning the abstract session, whose `run` takes no pipeline names.
            session = KedroSession.create(project_path=project, env=env)
            with session:
                session.run(pipeline_names=[pipeline_name])
        except Exception as error:
            stop = validation_stop(error)
            if stop is None:
                raise
            raise AirflowFailException(str(stop).strip()) from error
    logger.info("Kedro pipeline %r finished in %s.", pipeline_name, project)
