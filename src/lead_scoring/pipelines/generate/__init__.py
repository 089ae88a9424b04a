"""Simulate a realistic raw lead export with a latent completion label."""

from lead_scoring.pipelines.generate.pipeline import GENERATOR_SETTINGS, create_pipeline

__all__ = ["GENERATOR_SETTINGS", "create_pipeline"]
