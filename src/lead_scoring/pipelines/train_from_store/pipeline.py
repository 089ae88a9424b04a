"""train_from_store: the store's labelled leads, read as a labelled export for training."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.train_from_store.nodes import labelled_leads_from_store

STORE_RAW_LEADS = "store_raw_leads"


def create_pipeline(**kwargs) -> Pipeline:
    """The labelled leads of the window, in the export's columns."""
    return Pipeline(
        [
            Node(
                labelled_leads_from_store,
                inputs=["stored_labelled_leads", "params:ingestion", "params:train_from_store"],
                outputs=STORE_RAW_LEADS,
                name="labelled_leads_from_store",
            )
        ],
        tags="train_from_store",
    )
