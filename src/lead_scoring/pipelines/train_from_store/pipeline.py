"""train_from_store: the store's labelled leads, read as a labelled export for training."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.train_from_store.nodes import (
    labelled_leads_from_store,
    report_label_changes,
)

STORE_RAW_LEADS = "store_raw_leads"


def create_pipeline(**kwargs) -> Pipeline:
    """The labelled leads of the window, in the export's columns; the labels changed since."""
    return Pipeline(
        [
            Node(
                labelled_leads_from_store,
                inputs=["stored_labelled_leads", "params:ingestion", "params:train_from_store"],
                outputs=STORE_RAW_LEADS,
                name="labelled_leads_from_store",
            ),
            Node(
                report_label_changes,
                inputs="unreported_label_changes",
                outputs=["label_change_report", "reported_label_changes"],
                name="report_label_changes",
            ),
        ],
        tags="train_from_store",
    )
