from lead_scoring.pipelines.monitoring.pipeline import create_pipeline, create_reference_pipeline

__all__ = ["create_pipeline", "create_reference_pipeline"]
