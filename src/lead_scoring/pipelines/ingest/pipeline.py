"""Ingest: `kedro run --pipeline=ingest` stores each new landing file's leads once."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.ingest.nodes import read_landing_files, summarise_ingest


def create_pipeline(**kwargs) -> Pipeline:
    """New landing files to the lead store; the checkpoint moves once the store has them."""
    return Pipeline(
        [
            Node(
                read_landing_files,
                inputs=[
                    "landing_exports",
                    "lead_store",
                    "interaction_mapping",
                    "params:ingestion",
                    "params:validation",
                ],
                outputs=["stored_lead_files", "ingested_file_names"],
                name="read_landing_files",
            ),
            # Reads the counts back from the store, so it runs after the files' transaction.
            Node(
                summarise_ingest,
                inputs=["stored_lead_files", "ingested_file_names"],
                outputs="ingest_summary",
                name="summarise_ingest",
                confirms="landing_exports",
            ),
        ],
        tags="ingest",
    )
