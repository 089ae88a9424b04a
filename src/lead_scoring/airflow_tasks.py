"""What an Airflow task of this project runs: one whole Kedro pipeline in one Kedro session.

kedro-mlflow opens one MLflow run per Kedro session, so a task per node would split one training
into thirty runs; one task per pipeline keeps a training one run, as `kedro run` makes it.
The generated DAGs in airflow_dags/ import this module inside their task, so the DAG processor
parses them without importing Kedro, MLflow or CatBoost.

How a run ends decides what Airflow does next:

- a validation stop (the project's one-line errors, and a dataset's own words on a broken
  input) fails the task at once: the same input would stop every retry the same way;
- a transient fault (a locked or unreachable database, a tracking server that does not answer)
  is left to Airflow's retries;
- a retraining alert (:class:`~lead_scoring.errors.RetrainingAlertError`) ends the task well,
  returning its line, so that the DAG's ``request_retrain`` task can emit the retrain asset
  and its ``alert`` task fail with the line for people to see.
"""

from __future__ import annotations

import contextlib
import logging
import os
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

# Where the scheduler finds the project when the DAG files are not inside it.
PROJECT_PATH_VARIABLE = "LEAD_SCORING_PROJECT_PATH"

# Faults a retry may outlive. OperationalError is the DB-API's name for "the database did not
# answer or was locked" (sqlite3, SQLAlchemy, psycopg); BlockingIOError is a file lock held.
_TRANSIENT_TYPES = (ConnectionError, TimeoutError, BlockingIOError)
_TRANSIENT_NAMES = {"OperationalError"}

# The Airflow UI cuts a log line off at the panel's right edge; the stop is logged wrapped.
_LOG_WIDTH = 100


def project_path(default: str | Path) -> Path:
    """The project an Airflow task runs in: $LEAD_SCORING_PROJECT_PATH, else ``default``."""
    return Path(os.environ.get(PROJECT_PATH_VARIABLE) or default).expanduser().resolve()


def validation_stop(error: BaseException | None) -> BaseException | None:
    """The error that says why retrying cannot help, or None when a retry may succeed."""
    from kedro.io import DatasetError

    from lead_scoring.cli import error_chain
    from lead_scoring.errors import LeadScoringError
    from lead_scoring.hooks import TrackingUnreachableError

    chain = list(error_chain(error))
    project = next((e for e in chain if isinstance(e, LeadScoringError)), None)
    if project is not None:
        # A tracking server that does not answer is the project's error, but a retry may find it up.
        return None if isinstance(project, TrackingUnreachableError) else project
    if any(isinstance(e, _TRANSIENT_TYPES) or type(e).__name__ in _TRANSIENT_NAMES for e in chain):
        return None
    # A dataset that refused its input (a row cut short, a file that is not CSV) says so in a
    # DatasetError of its own; the outermost one names the dataset, as `kedro run` prints it.
    return next((e for e in chain if isinstance(e, DatasetError)), None)


def one_line(error: BaseException) -> str:
    """An error's message as the one line `kedro run` prints."""
    return " ".join(str(error).split())


def run_pipeline(pipeline_name: str, project: Path, env: str | None = None) -> str:
    """Run ``pipeline_name`` as `kedro run --pipeline` would; return its retraining alert's line.

    The line is "" when the run raised none: Airflow keeps no XCom of a None, and the tasks that
    read it would log "XCom not found" errors.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from lead_scoring.errors import RetrainingAlertError

    # The configuration resolves the project's stores from the working directory, as `kedro run`
    # started in the project root does; an Airflow worker starts wherever its service runs.
    with contextlib.chdir(project):
        from kedro.framework.project import configure_logging, pipelines
        from kedro.framework.session import KedroSession
        from kedro.framework.startup import bootstrap_project

        from lead_scoring.cli import error_chain

        # Kedro set its logging up when the package was first imported, in the worker's folder:
        # the project's own configuration applies from here on, as under `kedro run`.
        logging_file = Path(os.environ.get("KEDRO_LOGGING_CONFIG") or "conf/logging.yml")
        if logging_file.exists():
            configure_logging(yaml.safe_load(logging_file.read_text(encoding="utf-8")))
        bootstrap_project(project)
        if pipeline_name not in pipelines:
            raise AirflowFailException(
                f"The project in {project} has no pipeline {pipeline_name!r}: the DAG files are "
                "older or newer than its pipeline registry. Regenerate them with `make dags`."
            )
        try:
            # Not `with KedroSession.create(...) as session`: Kedro types `__enter__` as
            # returning the abstract session, whose `run` takes no pipeline names.
            session = KedroSession.create(project_path=project, env=env)
            with session:
                session.run(pipeline_names=[pipeline_name])
        except Exception as error:
            alerts = [e for e in error_chain(error) if isinstance(e, RetrainingAlertError)]
            if alerts:
                logger.warning("%s", one_line(alerts[0]))
                return one_line(alerts[0])
            stop = validation_stop(error)
            if stop is None:
                raise
            line = one_line(stop)
            logger.error("%s", textwrap.fill(line, _LOG_WIDTH, break_long_words=False))
            raise AirflowFailException(line) from error
    logger.info("Kedro pipeline %r finished in %s.", pipeline_name, project)
    return ""


def retrain_reason(
    alerts: Sequence[str | None],
    last_request: datetime | None,
    cooldown_days: float,
    now: datetime | None = None,
) -> str:
    """Why the champion should be retrained now; AirflowSkipException when nothing asks, or a
    request within the last ``cooldown_days`` already did."""
    from airflow.sdk.exceptions import AirflowSkipException

    reason = " ".join(alert for alert in alerts if alert)
    if not reason:
        raise AirflowSkipException("No retraining alert: nothing to request.")
    now = now or datetime.now(UTC)
    if last_request is not None and now - last_request < timedelta(days=cooldown_days):
        raise AirflowSkipException(
            f"Retraining was last requested at {last_request:%Y-%m-%d %H:%M} UTC, within the "
            f"{cooldown_days:g}-day cooldown (retrain_cooldown_days in conf/base/airflow.yml): "
            "not requested again."
        )
    logger.info("Requesting a retrain of the champion: %s", reason)
    return reason


def last_request_time(events) -> datetime | None:
    """When the newest of an asset's events (Airflow's ``inlet_events[asset]``) was emitted."""
    newest = events.ascending(False).limit(1)
    return newest[0].timestamp if len(newest) else None


def raise_alerts(alerts: Sequence[str | None]) -> None:
    """Fail at once with the run's retraining alerts, so that a person sees them; else skip."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    line = " ".join(alert for alert in alerts if alert)
    if not line:
        raise AirflowSkipException("No alert.")
    logger.error("%s", textwrap.fill(line, _LOG_WIDTH, break_long_words=False))
    raise AirflowFailException(line)
