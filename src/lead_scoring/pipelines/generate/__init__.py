"""Simulate a realistic raw lead export with a latent completion label."""

from lead_scoring.pipelines.generate.nodes import completion_intercept, rng_stream, simulate_leads
from lead_scoring.pipelines.generate.pipeline import GENERATOR_SETTINGS, create_pipeline

# What generate_daily reuses to continue the default export's world day by day.
__all__ = [
    "GENERATOR_SETTINGS",
    "completion_intercept",
    "create_pipeline",
    "rng_stream",
    "simulate_leads",
]
