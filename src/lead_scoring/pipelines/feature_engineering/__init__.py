from lead_scoring.pipelines.feature_engineering.nodes import CATEGORICAL_FEATURES, feature_columns
from lead_scoring.pipelines.feature_engineering.pipeline import create_pipeline

__all__ = ["CATEGORICAL_FEATURES", "create_pipeline", "feature_columns"]
