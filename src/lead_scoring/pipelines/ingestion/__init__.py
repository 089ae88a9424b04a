from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline", "normalise_raw_leads"]
