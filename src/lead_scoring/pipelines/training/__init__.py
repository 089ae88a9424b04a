from lead_scoring.pipelines.training.champion import from_unix_days
from lead_scoring.pipelines.training.nodes import tier_outcomes
from lead_scoring.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline", "from_unix_days", "tier_outcomes"]
