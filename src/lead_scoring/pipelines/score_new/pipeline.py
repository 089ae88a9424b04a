"""score_new: `kedro run --pipeline=score_new` scores the stored leads the champion has not."""

from kedro.pipeline import Node, Pipeline, pipeline

from lead_scoring.pipelines import monitoring
from lead_scoring.pipelines.score_new.nodes import (
    check_score_run,
    record_score_run,
    score_stored_leads,
    select_leads_to_score,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Select, score with the registered model, check drift, store; alert after storing.

    The registry adds batch scoring's model (``scoring_model``, ``scoring_model_version``) and
    monitoring's reference (``scoring_drift_reference``).
    """
    score = Pipeline(
        [
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
                    "params:inference",
                    "params:ingestion",
                    "params:monitoring",
                ],
                outputs=[
                    "new_scores",
                    "new_scores_quarantine",
                    "new_scores_tally",
                    "new_scores_profile",
                ],
                name="score_stored_leads",
            ),
        ]
    )
    # Monitoring's comparison, on the stored leads' profile.
    compare = pipeline(
        monitoring.create_comparison_pipeline(),
        inputs={"batch_profile": "new_scores_profile"},
        outputs={"drift_report": "new_scores_drift"},
        namespace="score_new",
        prefix_datasets_with_namespace=False,
    )
    store = Pipeline(
        [
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
        ]
    )
    return Pipeline([score, compare, store], tags="score_new")
