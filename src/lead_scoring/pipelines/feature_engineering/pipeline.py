"""Feature engineering: fit category levels on the fitting rows, then build the model input."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.feature_engineering.nodes import (
    build_checked_features,
    build_features,
    fit_category_vocabulary,
)

_FEATURE_INPUTS = [
    "city_tiers",
    "interaction_mapping",
    "params:feature_engineering",
]


def features_node(
    leads: str,
    model_input: str,
    name: str,
    checked: bool = True,
    vocabulary: str = "category_vocabulary",
) -> Node:
    """The one feature-building node, bound to a pair of datasets and a vocabulary."""
    build = build_checked_features if checked else build_features
    return Node(build, inputs=[leads, vocabulary, *_FEATURE_INPUTS], outputs=model_input, name=name)


def create_model_input_pipeline(checked: bool = True, **kwargs) -> Pipeline:
    """Valid leads to the model input, their levels encoded with the registered vocabulary."""
    return Pipeline(
        [features_node("valid_leads", "model_input", "build_model_input", checked=checked)],
        tags="feature_engineering",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Vocabularies and model inputs: the fitting rows' for measuring, every row's to register."""
    return Pipeline(
        [
            # Measuring: levels of the fitting rows only, so the holdout stays unseen.
            Node(
                fit_category_vocabulary,
                inputs=["fit_leads", "params:feature_engineering"],
                outputs="measurement_vocabulary",
                name="fit_measurement_vocabulary",
            ),
            features_node(
                "fit_leads",
                "model_input_fit",
                "build_fit_features",
                vocabulary="measurement_vocabulary",
            ),
            features_node(
                "holdout_leads",
                "model_input_holdout",
                "build_holdout_features",
                vocabulary="measurement_vocabulary",
            ),
            # Registering: the model the registry carries is refit on every labelled lead, and
            # the newest leads bring levels the fitting rows never had.
            Node(
                fit_category_vocabulary,
                inputs=["clean_leads", "params:feature_engineering"],
                outputs="category_vocabulary",
                name="fit_category_vocabulary",
            ),
            features_node("clean_leads", "model_input_labelled", "build_labelled_features"),
        ],
        tags="feature_engineering",
    )
