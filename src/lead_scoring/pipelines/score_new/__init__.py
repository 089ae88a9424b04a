from lead_scoring.pipelines.score_new.pipeline import create_pipeline

__all__ = ["create_pipeline"]
