from lead_scoring.pipelines.generate_daily.pipeline import create_pipeline

__all__ = ["create_pipeline"]
