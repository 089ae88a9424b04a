from lead_scoring.pipelines.validation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
