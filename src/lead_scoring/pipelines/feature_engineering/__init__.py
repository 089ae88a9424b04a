from lead_scoring.pipelines.feature_engineering.nodes import (
    ANY_INTERACTION,
    CATEGORICAL_FEATURES,
    CITY_TIER,
    CREATED_HOUR,
    CREATED_WEEKDAY,
    TOTAL_INTERACTIONS,
    encode_levels,
    feature_columns,
)
from lead_scoring.pipelines.feature_engineering.pipeline import (
    create_model_input_pipeline,
    create_pipeline,
)

__all__ = [
    "ANY_INTERACTION",
    "CATEGORICAL_FEATURES",
    "CITY_TIER",
    "CREATED_HOUR",
    "CREATED_WEEKDAY",
    "TOTAL_INTERACTIONS",
    "create_model_input_pipeline",
    "create_pipeline",
    "encode_levels",
    "feature_columns",
]
