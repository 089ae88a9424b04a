"""realised_performance: every model version measured on the stored leads whose outcome is known."""

from lead_scoring.pipelines.realised_performance.pipeline import create_pipeline

__all__ = ["create_pipeline"]
