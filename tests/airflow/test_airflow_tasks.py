"""What an Airflow task makes of a run's errors and alerts, and where it finds the project."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from kedro.io import AbstractDataset, DataCatalog, DatasetError

from lead_scoring.airflow_tasks import (
    PROJECT_PATH_VARIABLE,
    one_line,
    project_path,
    raise_alerts,
    retrain_reason,
    validation_stop,
)
from lead_scoring.errors import (
    MissingColumnsError,
    RealisedPerformanceAlertError,
    RetrainingAlertError,
    TooFewLeadsError,
)
from lead_scoring.hooks import TrackingUnreachableError
from lead_scoring.pipelines.score_new.nodes import ScoreRunAlertError


class _Raising(AbstractDataset):
    """A dataset whose load raises what it is given, for Kedro to wrap as it wraps any."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def load(self):
        raise self.error

    def save(self, data) -> None:
        raise NotImplementedError

    def _describe(self) -> dict:
        return {}


def _loaded(name: str, dataset: AbstractDataset) -> BaseException:
    """What ``catalog.load(name)`` raises: the chain a node's input error reaches a task with."""
    with pytest.raises(DatasetError) as raised:
        DataCatalog({name: dataset}).load(name)
    return raised.value


def test_a_dataset_s_own_stop_behind_kedro_s_wrappers_fails_at_once(tmp_path):
    # A delivery with a row cut short, as a dataset refuses it: its own DatasetError, which
    # the catalog wraps again with the dataset's name.
    refused = DatasetError(
        "Lead export 'landing/2026-01-02_leads.csv' line 6 has 3 field(s) where the header "
        "has 45. Nothing was read."
    )
    stop = validation_stop(_loaded("landing_exports", _Raising(refused)))
    assert stop is not None
    assert one_line(stop).startswith("landing_exports: Lead export 'landing/2026-01-02_leads.csv'")
    # A file pandas cannot parse, wrapped by Kedro's load wrapper: the same input, the same end.
    broken = tmp_path / "broken.csv"
    broken.write_text('a,b\n1,"2\n')
    from kedro_datasets.pandas import CSVDataset

    assert validation_stop(_loaded("export", CSVDataset(filepath=str(broken)))) is not None


def test_the_project_s_error_is_the_line_wherever_kedro_wrapped_it():
    missing = MissingColumnsError("Landing file x.csv: the export lacks column 'city_mapped'.")
    assert validation_stop(_loaded("landing_exports", _Raising(missing))) is missing
    assert validation_stop(TooFewLeadsError("Too few completers.")) is not None


def test_transient_faults_are_left_to_airflow_s_retries():
    locked = sqlite3.OperationalError("database is locked")
    assert validation_stop(_loaded("lead_store", _Raising(locked))) is None
    # A tracking server that does not answer is the project's error, but a retry may find it up.
    down = TrackingUnreachableError("The MLflow tracking server is unreachable.")
    assert validation_stop(_loaded("model", _Raising(down))) is None
    assert validation_stop(ConnectionResetError()) is None
    # A lock another run holds, raised `from None` while the lock was busy.
    try:
        try:
            raise BlockingIOError
        except BlockingIOError:
            raise DatasetError("Timed out waiting for the lock on 'history.lock'.") from None
    except DatasetError as timed_out:
        assert validation_stop(timed_out) is None
    # A bug is not a data problem: Airflow retries it, and its traceback stays in the log.
    assert validation_stop(KeyError("tier")) is None


def test_score_and_realised_performance_alerts_are_retraining_alerts():
    assert issubclass(ScoreRunAlertError, RetrainingAlertError)
    assert issubclass(RealisedPerformanceAlertError, RetrainingAlertError)


NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
ALERT = "The 300 new scores are stored, but 2 feature(s) drift past the alert levels."


def test_an_alert_requests_a_retrain_unless_one_was_requested_within_the_cooldown():
    assert retrain_reason([None, ALERT], None, 7, NOW) == ALERT
    assert retrain_reason([ALERT], NOW - timedelta(days=7, seconds=1), 7, NOW) == ALERT
    with pytest.raises(AirflowSkipException, match="within the 7-day cooldown"):
        retrain_reason([ALERT], NOW - timedelta(days=6, hours=23), 7, NOW)
    with pytest.raises(AirflowSkipException, match="No retraining alert"):
        retrain_reason([None, None], None, 7, NOW)


def test_the_alert_task_fails_with_the_alerts_and_is_skipped_without():
    with pytest.raises(AirflowFailException, match="drift past the alert levels"):
        raise_alerts([None, ALERT])
    with pytest.raises(AirflowSkipException):
        raise_alerts([None])


def test_the_project_is_the_default_unless_the_variable_names_another(monkeypatch, tmp_path):
    default = tmp_path / "project"
    monkeypatch.delenv(PROJECT_PATH_VARIABLE, raising=False)
    assert project_path(default) == default.resolve()
    monkeypatch.setenv(PROJECT_PATH_VARIABLE, str(tmp_path / "elsewhere"))
    assert project_path(default) == (tmp_path / "elsewhere").resolve()
    monkeypatch.setenv(PROJECT_PATH_VARIABLE, "")
    assert project_path(Path(default)) == default.resolve()
