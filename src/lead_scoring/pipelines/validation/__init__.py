from lead_scoring.pipelines.validation.pipeline import create_pipeline
from lead_scoring.pipelines.validation.schemas import parse_numbers

__all__ = ["create_pipeline", "parse_numbers"]
