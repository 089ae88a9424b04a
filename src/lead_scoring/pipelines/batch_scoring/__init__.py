from lead_scoring.pipelines.batch_scoring.call_list import ORIGIN_FIELDS, call_list_rows
from lead_scoring.pipelines.batch_scoring.nodes import (
    list_quarantined_leads,
    list_scored_leads,
    load_scoring_model,
    score_export,
    split_predictions,
)
from lead_scoring.pipelines.batch_scoring.pipeline import create_pipeline

__all__ = [
    "ORIGIN_FIELDS",
    "call_list_rows",
    "create_pipeline",
    "list_quarantined_leads",
    "list_scored_leads",
    "load_scoring_model",
    "score_export",
    "split_predictions",
]
