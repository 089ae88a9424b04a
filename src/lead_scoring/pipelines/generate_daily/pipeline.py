"""generate_daily: synthetic exports, one per day, into the landing folder the loop reads."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.generate_daily.nodes import (
    daily_generator_settings,
    generate_leads,
    split_by_day,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Generate ``days`` days of leads and write each day's export and outcomes apart."""
    return Pipeline(
        [
            Node(
                daily_generator_settings,
                inputs=["params:generate", "params:generate_daily"],
                outputs="daily_generator_settings",
                name="daily_generator_settings",
            ),
            Node(
                generate_leads,
                inputs=["city_tiers", "interaction_mapping", "daily_generator_settings"],
                outputs="daily_raw_leads",
                name="generate_daily_leads",
            ),
            Node(
                split_by_day,
                inputs=["daily_raw_leads", "params:generate_daily"],
                outputs=["daily_landing_exports", "daily_outcome_exports"],
                name="split_by_day",
            ),
        ],
        tags="generate",
    )
