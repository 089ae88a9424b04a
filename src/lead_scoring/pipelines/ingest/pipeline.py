"""Ingest: `kedro run --pipeline=ingest` stores each landing file's leads and outcomes once."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.ingest.nodes import ingest_landing_files, summarise_ingest


def create_pipeline(**kwargs) -> Pipeline:
    """Landing files the store has not read, each in its own transaction; then the totals."""
    return Pipeline(
        [
            Node(
                ingest_landing_files,
                inputs=[
                    "landing_exports",
                    "lead_store",
                    "interaction_mapping",
                    "params:ingestion",
                    "params:validation",
                    "params:landing",
                ],
                outputs="ingest_report",
                name="ingest_landing_files",
            ),
            Node(
                summarise_ingest,
                inputs="ingest_report",
                outputs="ingest_summary",
                name="summarise_ingest",
            ),
        ],
        tags="ingest",
    )
