from lead_scoring.pipelines.scoring.pipeline import create_pipeline

__all__ = ["create_pipeline"]
