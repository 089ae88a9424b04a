from lead_scoring.pipelines.feature_engineering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
