"""generate_daily: synthetic daily exports after the default export, into the landing folder."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.generate_daily.nodes import (
    generate_daily_exports,
    reference_intercept,
)

# The default export's world and the daily series' settings.
WORLD = ["city_tiers", "interaction_mapping", "params:generate", "params:generate_daily"]


def create_pipeline(**kwargs) -> Pipeline:
    """The default export's world continued day by day: lead exports, and outcomes on a delay."""
    return Pipeline(
        [
            Node(
                reference_intercept,
                inputs=WORLD,
                outputs="daily_completion_intercept",
                name="reference_intercept",
            ),
            Node(
                generate_daily_exports,
                inputs=[*WORLD, "daily_completion_intercept"],
                outputs=["daily_landing_exports", "daily_outcome_exports"],
                name="generate_daily_exports",
            ),
        ],
        tags="generate",
    )
