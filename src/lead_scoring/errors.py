"""Errors that stop a run with one clear message instead of a traceback."""


class LeadScoringError(Exception):
    """A problem with the user's data or set-up, explained in the message."""


class MissingColumnsError(LeadScoringError):
    """The export lacks columns the pipeline needs."""


class EmptyExportError(LeadScoringError):
    """The export has a header but no leads."""


class TooManyInvalidRowsError(LeadScoringError):
    """So many rows failed validation that the export itself is suspect."""


class TooFewLeadsError(LeadScoringError):
    """Too few valid leads of each outcome remain to fit and measure a model."""
