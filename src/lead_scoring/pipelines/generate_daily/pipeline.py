"""generate_daily: synthetic exports, one per day, into the landing folder the loop reads."""

from kedro.pipeline import Node, Pipeline, pipeline

from lead_scoring.pipelines import generate
from lead_scoring.pipelines.generate_daily.nodes import daily_generator_settings, split_by_day


def create_pipeline(**kwargs) -> Pipeline:
    """Generate ``days`` days of leads with generate's own nodes, and write each day apart."""
    settings = Pipeline(
        [
            Node(
                daily_generator_settings,
                inputs=["params:generate", "params:generate_daily"],
                outputs="daily_generator_settings",
                name="daily_generator_settings",
            )
        ]
    )
    # Generate's nodes on the daily settings; their intermediate frames are namespaced.
    leads = pipeline(
        generate.create_generator_pipeline(),
        inputs={
            generate.GENERATOR_SETTINGS: "daily_generator_settings",
            "city_tiers": "city_tiers",
            "interaction_mapping": "interaction_mapping",
        },
        outputs={"generated_raw_leads": "daily_raw_leads"},
        namespace="generate_daily",
    )
    split = Pipeline(
        [
            Node(
                split_by_day,
                inputs=["daily_raw_leads", "params:generate_daily"],
                outputs=["daily_landing_exports", "daily_outcome_exports"],
                name="split_by_day",
            )
        ]
    )
    return Pipeline([settings, leads, split], tags="generate")
