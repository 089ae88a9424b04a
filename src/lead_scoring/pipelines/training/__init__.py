from lead_scoring.pipelines.training.nodes import tier_outcomes
from lead_scoring.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline", "tier_outcomes"]
