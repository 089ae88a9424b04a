"""What an Airflow task makes of the project's errors, and where it finds the project."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kedro.io import DatasetError

from lead_scoring.airflow_tasks import PROJECT_PATH_VARIABLE, project_path, validation_stop
from lead_scoring.errors import MissingColumnsError, TooFewLeadsError
from lead_scoring.hooks import TrackingUnreachableError


def _raised(error: Exception, wrapper: Exception | None = None) -> Exception:
    """``error`` as raised, and wrapped in ``wrapper`` the way Kedro wraps a dataset's errors."""
    try:
        try:
            raise error
        except Exception as cause:
            if wrapper is None:
                raise
            raise wrapper from cause
    except Exception as raised:
        return raised


def test_a_validation_stop_is_found_behind_kedro_s_dataset_error():
    stop = MissingColumnsError("The export lacks column 'city_mapped'.")
    raised = _raised(stop, DatasetError("Failed while loading data from dataset raw_leads."))
    assert validation_stop(raised) is stop
    assert validation_stop(_raised(TooFewLeadsError("Too few completers."))) is not None


def test_transient_faults_are_left_to_airflow_s_retries():
    locked = _raised(sqlite3.OperationalError("database is locked"))
    assert validation_stop(locked) is None
    # A tracking server that does not answer is the project's error, but a retry may find it up.
    down = _raised(TrackingUnreachableError("The MLflow tracking server is unreachable."))
    assert validation_stop(down) is None
    assert validation_stop(_raised(ConnectionResetError(), RuntimeError("hook failed"))) is None


def test_the_project_is_the_default_unless_the_variable_names_another(monkeypatch, tmp_path):
    default = tmp_path / "project"
    monkeypatch.delenv(PROJECT_PATH_VARIABLE, raising=False)
    assert project_path(default) == default.resolve()
    monkeypatch.setenv(PROJECT_PATH_VARIABLE, str(tmp_path / "elsewhere"))
    assert project_path(default) == (tmp_path / "elsewhere").resolve()
    monkeypatch.setenv(PROJECT_PATH_VARIABLE, "")
    assert project_path(Path(default)) == default.resolve()
