from lead_scoring.pipelines.promote.pipeline import create_pipeline

__all__ = ["create_pipeline"]
