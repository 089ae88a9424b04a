"""promote: `kedro run --pipeline=promote` moves the champion alias on realised results."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.promote.nodes import (
    apply_promotion,
    decide_promotion,
    find_contenders,
    pair_outcomes,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Champion and challenger, the labelled leads both scored, the decision, its effect."""
    return Pipeline(
        [
            Node(
                find_contenders,
                inputs="params:inference.model.name",
                outputs="promotion_contenders",
                name="find_contenders",
            ),
            Node(
                pair_outcomes,
                inputs=["promotion_store", "promotion_contenders"],
                outputs="promotion_pairs",
                name="pair_outcomes",
            ),
            Node(
                decide_promotion,
                inputs=["promotion_pairs", "promotion_contenders", "params:promote"],
                outputs="promotion_decision",
                name="decide_promotion",
            ),
            Node(
                apply_promotion,
                inputs=["promotion_store", "promotion_decision"],
                outputs="promotion_record",
                name="apply_promotion",
            ),
        ],
        tags="promote",
    )
