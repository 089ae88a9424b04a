from lead_scoring.pipelines.batch_scoring.call_list import ORIGIN_FIELDS, call_list_rows
from lead_scoring.pipelines.batch_scoring.nodes import (
    add_tallies,
    load_scoring_model,
    score_export,
    split_predictions,
    tally_scored_chunk,
)
from lead_scoring.pipelines.batch_scoring.pipeline import create_model_pipeline, create_pipeline

__all__ = [
    "ORIGIN_FIELDS",
    "add_tallies",
    "call_list_rows",
    "load_scoring_model",
    "create_model_pipeline",
    "create_pipeline",
    "score_export",
    "split_predictions",
    "tally_scored_chunk",
]
