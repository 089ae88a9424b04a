from lead_scoring.pipelines.batch_scoring.nodes import (
    add_tallies,
    score_export,
    split_predictions,
    tally_scored_chunk,
)
from lead_scoring.pipelines.batch_scoring.pipeline import create_model_pipeline, create_pipeline

__all__ = [
    "add_tallies",
    "create_model_pipeline",
    "create_pipeline",
    "score_export",
    "split_predictions",
    "tally_scored_chunk",
]
