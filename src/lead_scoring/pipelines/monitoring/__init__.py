from lead_scoring.pipelines.monitoring.nodes import add_profiles, profile_scored_chunk
from lead_scoring.pipelines.monitoring.pipeline import (
    create_comparison_pipeline,
    create_pipeline,
    create_reference_loading_pipeline,
    create_reference_pipeline,
)

__all__ = [
    "add_profiles",
    "create_comparison_pipeline",
    "create_pipeline",
    "create_reference_loading_pipeline",
    "create_reference_pipeline",
    "profile_scored_chunk",
]
