"""Errors that stop a run with one clear message instead of a traceback."""

from kedro.io import DatasetError
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import BAD_REQUEST


class LeadScoringError(Exception):
    """A problem with the user's data or set-up, explained in the message."""


class LeadDataError(LeadScoringError, MlflowException):
    """The leads sent are unusable as a whole.

    Also an ``MlflowException`` with a 400 code, so the served model answers ``400 BAD_REQUEST``
    with this message alone: any other error is answered with the server's stack trace.
    """

    def __init__(self, message: str) -> None:
        MlflowException.__init__(self, message, error_code=BAD_REQUEST)


class MissingColumnsError(LeadDataError):
    """The export lacks columns the pipeline needs."""


class EmptyExportError(LeadDataError):
    """The export has a header but no leads."""


class TooManyInvalidRowsError(LeadScoringError):
    """So many rows failed validation that the export itself is suspect."""


class TooFewLeadsError(LeadScoringError):
    """Too few valid leads of each outcome remain to fit and measure a model."""


class UnreadableExportError(LeadScoringError, DatasetError):
    """A delivered file is no export the reader can open: a broken or many-file archive.

    Also a Kedro ``DatasetError``, so a dataset's ``load`` passes it on with its one line intact
    instead of wrapping it in a second message.
    """


class LeadKeyCollisionError(LeadScoringError):
    """Rows of one file share a lead's key but differ: two leads cannot be told apart."""


class UnkeyedOutcomesError(LeadScoringError):
    """An outcome export carries nothing that says which lead each label belongs to."""


class RetrainingAlertError(LeadScoringError):
    """The run did its work, but what it measured says the champion should be retrained.

    Under Airflow such a run succeeds and asks the training DAG for a retrain through an asset
    (lead_scoring.airflow_tasks); on the command line it stops with its one line, as any stop.
    """


class RealisedPerformanceAlertError(RetrainingAlertError):
    """The champion's realised ROC AUC fell below ``realised_performance.alert_roc_auc``."""
