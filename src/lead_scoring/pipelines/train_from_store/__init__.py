from lead_scoring.pipelines.train_from_store.pipeline import STORE_RAW_LEADS, create_pipeline

__all__ = ["STORE_RAW_LEADS", "create_pipeline"]
