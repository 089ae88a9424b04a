"""Simulate a realistic raw lead export with a latent completion label."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
