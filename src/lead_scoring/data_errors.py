"""The errors of unusable leads: also MLflow exceptions, so the served model answers 400.

Imported on first use through ``lead_scoring.errors`` (importing MLflow costs some 2 s).
"""

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import BAD_REQUEST

from lead_scoring.errors import LeadScoringError


class LeadDataError(LeadScoringError, MlflowException):
    """The leads sent are unusable as a whole: the served model answers 400 with this message
    alone, where any other error is answered with the server's stack trace."""

    def __init__(self, message: str) -> None:
        MlflowException.__init__(self, message, error_code=BAD_REQUEST)


class MissingColumnsError(LeadDataError):
    """The export lacks columns the pipeline needs."""


class EmptyExportError(LeadDataError):
    """The export has a header but no leads."""


class DuplicateColumnError(LeadDataError):
    """Two columns of the export share one name."""
