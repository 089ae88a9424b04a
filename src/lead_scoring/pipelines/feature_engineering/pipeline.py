"""Feature engineering: fit category levels on the fitting rows, then build the model input."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.feature_engineering.nodes import (
    build_checked_features,
    build_features,
    fit_category_vocabulary,
)

_FEATURE_INPUTS = [
    "category_vocabulary",
    "city_tiers",
    "interaction_mapping",
    "params:feature_engineering",
]


def features_node(leads: str, model_input: str, name: str, checked: bool = True) -> Node:
    """The one feature-building node, bound to a pair of datasets."""
    build = build_checked_features if checked else build_features
    return Node(build, inputs=[leads, *_FEATURE_INPUTS], outputs=model_input, name=name)


def create_pipeline(**kwargs) -> Pipeline:
    """Fit the vocabulary on the fitting rows and build model inputs for fitting and holdout."""
    return Pipeline(
        [
            Node(
                fit_category_vocabulary,
                inputs=["fit_leads", "params:feature_engineering"],
                outputs="category_vocabulary",
                name="fit_category_vocabulary",
            ),
            features_node("fit_leads", "model_input_fit", "build_fit_features"),
            features_node("holdout_leads", "model_input_holdout", "build_holdout_features"),
        ],
        tags="feature_engineering",
    )
