"""Validation: the raw Pandera schema splits leads into valid rows and quarantine."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.validation.nodes import accept_training_leads, validate_raw_leads


def create_pipeline(**kwargs) -> Pipeline:
    """Validate normalised leads into valid rows and quarantine; accept training leads, exact
    duplicates dropped. The registered model reuses the first node on served leads."""
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
            ),
            Node(
                accept_training_leads,
                inputs=["valid_leads", "quarantined_leads", "params:validation"],
                outputs=["clean_leads", "validation_summary", "validation_metrics_mlflow"],
                name="accept_training_leads",
            ),
        ],
        tags="validation",
    )
