"""The scoring core: raw leads in, one scored or quarantined row per lead out.

This is the inference side that the registered MLflow model carries, so the served model,
batch scoring and training evaluation run the same ingestion, validation and feature code.
"""

from kedro.pipeline import Node, Pipeline, pipeline

from lead_scoring.pipelines import feature_engineering, ingestion, validation
from lead_scoring.pipelines.lead_model.nodes import (
    attach_model_input,
    check_level_labels,
    combine_scored_and_quarantined,
    explain_predictions,
    score_leads,
)

SCORING_INPUT = "scoring_leads"
SCORING_OUTPUT = "lead_scores"
# The stages training runs too, reused here on the served leads' own datasets: the node
# names are the stages' own, under this namespace.
NAMESPACE = "lead_model"


def _stage(stage: Pipeline, inputs: dict, outputs: dict, parameters: dict | None = None):
    return pipeline(
        stage,
        inputs=inputs,
        outputs=outputs,
        parameters=parameters,
        namespace=NAMESPACE,
        prefix_datasets_with_namespace=False,
        tags="scoring",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Raw leads to probability, score, tier and reasons, with invalid rows quarantined."""
    prepare = (
        _stage(
            ingestion.create_pipeline(),
            inputs={"raw_leads": SCORING_INPUT},
            outputs={"normalised_leads": "scoring_normalised_leads"},
        )
        + _stage(
            validation.create_split_pipeline(),
            inputs={"normalised_leads": "scoring_normalised_leads"},
            outputs={
                "valid_leads": "scoring_valid_leads",
                "quarantined_leads": "scoring_quarantined_leads",
            },
            parameters={"params:training.label_required": "params:scoring.label_required"},
        )
        # The model-input contract is checked where a model learns from the same code; on
        # validated rows it would cost a served lead more than the rest of its scoring.
        + _stage(
            feature_engineering.create_model_input_pipeline(checked=False),
            inputs={"valid_leads": "scoring_valid_leads"},
            outputs={"model_input": "scoring_model_input"},
        )
    )
    return prepare + Pipeline(
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
