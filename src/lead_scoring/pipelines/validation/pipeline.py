"""Validation: the raw Pandera schema splits leads into valid rows and quarantine."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.validation.nodes import accept_training_leads, validate_raw_leads


def create_split_pipeline(**kwargs) -> Pipeline:
    """Validate normalised leads into valid rows and quarantined rows with why."""
    return Pipeline(
        [
            Node(
                validate_raw_leads,
                inputs=[
                    "normalised_leads",
                    "interaction_mapping",
                    "params:validation",
                    "params:training.label_required",
                ],
                outputs=["valid_leads", "quarantined_leads"],
                name="validate_raw_leads",
            )
        ],
        tags="validation",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Validate normalised training leads, quarantine failures and drop exact duplicates."""
    accept = Pipeline(
        [
            Node(
                accept_training_leads,
                inputs=["valid_leads", "quarantined_leads", "params:validation"],
                outputs=["clean_leads", "validation_summary", "validation_metrics_mlflow"],
                name="accept_training_leads",
            ),
        ],
        tags="validation",
    )
    return create_split_pipeline() + accept
