"""Generate: `kedro run --pipeline=generate` writes a synthetic labelled export.

``generate_daily`` reuses the same nodes with settings of its own.
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.generate.nodes import (
    assemble_raw_export,
    check_generator_settings,
    draw_completion_labels,
    sample_interactions,
    sample_lead_origins,
)

GENERATOR_SETTINGS = "generator_settings"


def create_pipeline(**kwargs) -> Pipeline:
    """The settings of `parameters_generate.yml`, checked, and the reference mappings to
    `generated_raw_leads`; from `generator_settings` on, the generator's own nodes."""
    return Pipeline(
        [
            Node(
                check_generator_settings,
                inputs="params:generate",
                outputs=GENERATOR_SETTINGS,
                name="check_generator_settings",
            ),
            Node(
                sample_lead_origins,
                inputs=["city_tiers", GENERATOR_SETTINGS],
                outputs="synthetic_lead_origins",
                name="sample_lead_origins",
            ),
            Node(
                sample_interactions,
                inputs=["synthetic_lead_origins", "interaction_mapping", GENERATOR_SETTINGS],
                outputs="synthetic_lead_interactions",
                name="sample_interactions",
            ),
            Node(
                draw_completion_labels,
                inputs=[
                    "synthetic_lead_origins",
                    "synthetic_lead_interactions",
                    "city_tiers",
                    "interaction_mapping",
                    GENERATOR_SETTINGS,
                ],
                outputs="synthetic_completion_labels",
                name="draw_completion_labels",
            ),
            Node(
                assemble_raw_export,
                inputs=[
                    "synthetic_lead_origins",
                    "synthetic_lead_interactions",
                    "synthetic_completion_labels",
                    GENERATOR_SETTINGS,
                ],
                outputs="generated_raw_leads",
                name="assemble_raw_export",
            ),
        ],
        tags="generate",
    )
