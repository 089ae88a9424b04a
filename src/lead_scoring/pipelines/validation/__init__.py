from lead_scoring.pipelines.validation.nodes import validate_raw_leads
from lead_scoring.pipelines.validation.pipeline import create_pipeline
from lead_scoring.pipelines.validation.schemas import (
    TIMESTAMP_RULE,
    UNKNOWN_COLUMNS,
    UNREADABLE_CELLS,
    arrow_cells,
    parse_numbers,
    parse_timestamps,
)

__all__ = [
    "TIMESTAMP_RULE",
    "UNKNOWN_COLUMNS",
    "UNREADABLE_CELLS",
    "arrow_cells",
    "create_pipeline",
    "parse_numbers",
    "parse_timestamps",
    "validate_raw_leads",
]
