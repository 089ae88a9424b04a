"""Simulate a realistic raw lead export with a latent completion label."""

from lead_scoring.pipelines.generate.nodes import (
    assemble_raw_export,
    completion_intercept,
    draw_completion_labels,
    rng_stream,
    sample_interactions,
    sample_lead_origins,
)
from lead_scoring.pipelines.generate.pipeline import GENERATOR_SETTINGS, create_pipeline

# What generate_daily reuses to continue the default export's world day by day.
__all__ = [
    "GENERATOR_SETTINGS",
    "assemble_raw_export",
    "completion_intercept",
    "create_pipeline",
    "draw_completion_labels",
    "rng_stream",
    "sample_interactions",
    "sample_lead_origins",
]
