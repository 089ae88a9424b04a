from lead_scoring.pipelines.batch_scoring.call_list import call_list_rows
from lead_scoring.pipelines.batch_scoring.nodes import (
    ORIGIN_FIELDS,
    list_quarantined_leads,
    list_scored_leads,
    load_scoring_model,
)
from lead_scoring.pipelines.batch_scoring.pipeline import create_pipeline

# What score_new reuses of batch scoring beside its pipeline's nodes.
__all__ = [
    "ORIGIN_FIELDS",
    "call_list_rows",
    "create_pipeline",
    "list_quarantined_leads",
    "list_scored_leads",
    "load_scoring_model",
]
