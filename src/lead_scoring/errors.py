"""Errors that stop a run with one clear message instead of a traceback.

The errors of unusable leads (``LeadDataError`` and its kinds) are MLflow exceptions, so they
live in ``lead_scoring.data_errors`` and are looked up here on first use: importing MLflow costs
some 2 s, which a run that reads no lead (`ingest` with nothing new) does not pay.
"""

from typing import TYPE_CHECKING, Any

from kedro.io import DatasetError

if TYPE_CHECKING:
    # What the lookup below returns, for type checkers.
    from lead_scoring.data_errors import DuplicateColumnError as DuplicateColumnError
    from lead_scoring.data_errors import EmptyExportError as EmptyExportError
    from lead_scoring.data_errors import LeadDataError as LeadDataError
    from lead_scoring.data_errors import MissingColumnsError as MissingColumnsError


class LeadScoringError(Exception):
    """A problem with the user's data or set-up, explained in the message."""


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


_DATA_ERRORS = ("LeadDataError", "MissingColumnsError", "EmptyExportError", "DuplicateColumnError")


def __getattr__(name: str) -> Any:
    if name in _DATA_ERRORS:
        from lead_scoring import data_errors

        return getattr(data_errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
