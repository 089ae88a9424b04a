"""What stops a run that uses the store, each said in one line."""

from lead_scoring.errors import LeadScoringError


class StoreUnavailableError(LeadScoringError):
    """The store's URL is not a database the store can open (a set-up problem, not retried)."""


class SchemaOutOfDateError(LeadScoringError):
    """The database's schema is older than this code and the run may not upgrade it."""


class StoreBusyError(Exception):
    """Another run holds the store's lock: this run did nothing, and the next will catch up.

    Not a ``LeadScoringError``: nothing is wrong with the data, and the command line ends such
    a run with exit code 0 (``lead_scoring.cli``).
    """
