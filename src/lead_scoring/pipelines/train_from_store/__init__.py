from lead_scoring.pipelines.train_from_store.pipeline import create_pipeline

__all__ = ["create_pipeline"]
