"""The scoring core: raw leads in, one scored or quarantined row per lead out.

This is the inference side that the registered MLflow model carries, so the served model,
batch scoring and training evaluation run the same ingestion, validation and feature code.
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.feature_engineering.pipeline import features_node
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads
from lead_scoring.pipelines.scoring.nodes import (
    attach_model_input,
    check_level_labels,
    combine_scored_and_quarantined,
    explain_predictions,
    score_leads,
)
from lead_scoring.pipelines.validation.nodes import validate_raw_leads

SCORING_INPUT = "scoring_leads"
SCORING_OUTPUT = "lead_scores"


def create_pipeline(**kwargs) -> Pipeline:
    """Raw leads to probability, score, tier and reasons, with invalid rows quarantined."""
    return Pipeline(
        [
            Node(
                normalise_raw_leads,
                inputs=[SCORING_INPUT, "interaction_mapping", "params:ingestion"],
                outputs="scoring_normalised_leads",
                name="normalise_scoring_leads",
            ),
            Node(
                validate_raw_leads,
                inputs=[
                    "scoring_normalised_leads",
                    "interaction_mapping",
                    "params:validation",
                    "params:scoring.label_required",
                ],
                outputs=["scoring_valid_leads", "scoring_quarantined_leads"],
                name="validate_scoring_leads",
            ),
            # The model-input contract is checked where a model learns from the same code; on
            # validated rows it would cost a served lead more than the rest of its scoring.
            features_node(
                "scoring_valid_leads",
                "scoring_model_input",
                "build_scoring_features",
                checked=False,
            ),
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
        ],
        tags="scoring",
    )


def create_label_check_pipeline(**kwargs) -> Pipeline:
    """Check the level labels that the registered model will carry, before training on them."""
    return Pipeline(
        [
            Node(
                check_level_labels,
                inputs="level_labels",
                outputs=None,
                name="check_level_labels",
            )
        ],
        tags="scoring",
    )
