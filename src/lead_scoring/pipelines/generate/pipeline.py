"""Wire the nodes that write a synthetic raw lead export."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import (
    assemble_raw_export,
    draw_completion_labels,
    sample_interactions,
    sample_lead_origins,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Return the pipeline from the reference mappings to `generated_raw_leads`."""
    return Pipeline(
        [
            Node(
                sample_lead_origins,
                inputs=["city_tiers", "params:generate"],
                outputs="synthetic_lead_origins",
                name="sample_lead_origins",
            ),
            Node(
                sample_interactions,
                inputs=["synthetic_lead_origins", "interaction_mapping", "params:generate"],
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
                    "params:generate",
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
                    "params:generate",
                ],
                outputs="generated_raw_leads",
                name="assemble_raw_export",
            ),
        ]
    )
