"""Ingestion: a raw export from the catalog to normalised text columns."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads


def create_pipeline(**kwargs) -> Pipeline:
    """Read the raw export and normalise its columns."""
    return Pipeline(
        [
            Node(
                normalise_raw_leads,
                inputs=["raw_leads", "interaction_mapping", "params:ingestion"],
                outputs="normalised_leads",
                name="normalise_raw_leads",
            )
        ],
        tags="ingestion",
    )
