"""The scoring core: raw leads in, one scored or quarantined row per lead out.

This is the inference side that the registered MLflow model carries; the registry composes it
with the ingestion, validation and feature stages training runs, so the served model, batch
scoring and training evaluation run the same code.
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.lead_model.nodes import (
    attach_model_input,
    check_level_labels,
    combine_scored_and_quarantined,
    explain_predictions,
    score_leads,
)

SCORING_INPUT = "scoring_leads"
SCORING_OUTPUT = "lead_scores"
# The registry puts ingestion, validation and feature engineering in front, the stages training
# runs, on the served leads' own datasets: their node names are the stages' own, under this
# namespace.
NAMESPACE = "lead_model"
LABEL_CHECK = "check_level_labels"


def create_pipeline(**kwargs) -> Pipeline:
    """The served leads' model input to probability, score, tier and reasons, one row per lead
    with invalid rows quarantined; and the check of the level labels the reasons use."""
    return Pipeline(
        [
            Node(
                explain_predictions,
                inputs=["lead_scoring_model", "scoring_model_input"],
                outputs="scoring_shap_values",
                name="explain_predictions",
            ),
            Node(
                score_leads,
                inputs=[
                    "scoring_model_input",
                    "scoring_shap_values",
                    "tier_cuts",
                    "probability_calibration",
                    "params:scoring",
                    "level_labels",
                ],
                outputs="scoring_scored_leads",
                name="score_leads",
            ),
            Node(
                combine_scored_and_quarantined,
                inputs=[
                    "scoring_normalised_leads",
                    "scoring_scored_leads",
                    "scoring_quarantined_leads",
                ],
                outputs="scoring_answer",
                name="combine_scored_and_quarantined",
            ),
            # Not in the served JSON: batch scoring hands it to drift monitoring.
            Node(
                attach_model_input,
                inputs=["scoring_answer", "scoring_model_input", "scoring_valid_leads"],
                outputs=SCORING_OUTPUT,
                name="attach_model_input",
            ),
            # Run by training, not by the model: the labels the model will carry, checked.
            Node(check_level_labels, inputs="level_labels", outputs=None, name=LABEL_CHECK),
        ],
        tags="lead_model",
    )
