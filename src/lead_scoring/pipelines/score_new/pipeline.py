"""score_new: `kedro run --pipeline=score_new` scores the stored leads the champion has not."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.inference.nodes import find_model_version, load_scoring_model
from lead_scoring.pipelines.monitoring.nodes import compare_with_reference, load_drift_reference
from lead_scoring.pipelines.score_new.nodes import (
    check_score_run,
    record_score_run,
    score_batch_profile,
    score_stored_leads,
    select_leads_to_score,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Select, score with the registered model, check drift, store; alert after storing."""
    return Pipeline(
        [
            Node(
                find_model_version,
                inputs="params:inference.model",
                outputs="scoring_model_version",
                name="find_model_version",
            ),
            Node(
                load_scoring_model,
                inputs="scoring_model_version",
                outputs="scoring_model",
                name="load_scoring_model",
            ),
            Node(
                load_drift_reference,
                inputs=["scoring_model_version", "params:monitoring"],
                outputs="scoring_drift_reference",
                name="load_drift_reference",
            ),
            Node(
                select_leads_to_score,
                inputs=["lead_store", "scoring_model_version", "params:score_new"],
                outputs="leads_to_score",
                name="select_leads_to_score",
            ),
            Node(
                score_stored_leads,
                inputs=[
                    "scoring_model",
                    "leads_to_score",
                    "scoring_model_version",
                    "scoring_drift_reference",
                    "city_tiers",
                    "interaction_mapping",
                    "params:inference",
                    "params:ingestion",
                    "params:validation",
                    "params:feature_engineering",
                ],
                outputs=["new_scores", "new_scores_quarantine", "new_scores_tally"],
                name="score_stored_leads",
            ),
            Node(
                score_batch_profile,
                inputs="new_scores_tally",
                outputs="new_scores_profile",
                name="score_batch_profile",
            ),
            Node(
                compare_with_reference,
                inputs=[
                    "new_scores_profile",
                    "scoring_drift_reference",
                    "scoring_model_version",
                    "params:monitoring",
                ],
                outputs="new_scores_drift",
                name="compare_new_scores_with_reference",
            ),
            Node(
                record_score_run,
                inputs=[
                    "new_scores",
                    "new_scores_quarantine",
                    "new_scores_tally",
                    "leads_to_score",
                    "new_scores_drift",
                    "scoring_model_version",
                ],
                outputs=["stored_scores", "score_run"],
                name="record_score_run",
            ),
            # Loads the store after the scores' transaction, so an alert never loses them.
            Node(
                check_score_run,
                inputs=[
                    "stored_scores",
                    "score_run",
                    "new_scores_drift",
                    "params:score_new",
                ],
                outputs="score_run_checked",
                name="check_score_run",
            ),
        ],
        tags="score_new",
    )
