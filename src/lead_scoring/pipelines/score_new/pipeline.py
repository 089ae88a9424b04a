"""score_new: `kedro run --pipeline=score_new` scores the stored leads the champion has not."""

from kedro.pipeline import Node, Pipeline, pipeline

from lead_scoring.pipelines import monitoring
from lead_scoring.pipelines.score_new.nodes import (
    check_score_run,
    describe_model_training,
    find_challenger_version,
    list_new_calls,
    record_challenger_run,
    record_score_run,
    score_run_alerts,
    score_stored_leads,
    score_with_challenger,
    select_challenger_leads,
    select_leads_to_score,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Select, score with the registered model, check drift, store, list the calls, shadow-score
    with the challenger; alert last.

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
                score_run_alerts,
                inputs=["stored_scores", "score_run", "new_scores_drift", "params:score_new"],
                outputs="score_run_alerts",
                name="score_run_alerts",
            ),
            Node(
                describe_model_training,
                inputs="scoring_model_version",
                outputs="scoring_model_training",
                name="describe_model_training",
            ),
            Node(
                list_new_calls,
                inputs=[
                    "new_scores",
                    "leads_to_score",
                    "scoring_model_version",
                    "scoring_model_training",
                    "score_run_alerts",
                ],
                outputs=["call_list_new", "call_list_new_rows"],
                name="list_new_calls",
            ),
        ]
    )
    # The challenger selects its leads from the store after the champion's scores are stored:
    # the champion's model is released by then, so the two models are never in memory at once.
    shadow = Pipeline(
        [
            Node(
                find_challenger_version,
                inputs=["scoring_model_version", "params:inference.model"],
                outputs="challenger_model_version",
                name="find_challenger_version",
            ),
            Node(
                select_challenger_leads,
                inputs=["stored_scores", "challenger_model_version", "params:score_new"],
                outputs="challenger_leads_to_score",
                name="select_challenger_leads",
            ),
            Node(
                score_with_challenger,
                inputs=[
                    "challenger_leads_to_score",
                    "challenger_model_version",
                    "params:inference",
                    "params:ingestion",
                    "params:monitoring",
                ],
                outputs=["challenger_scores", "challenger_scores_tally"],
                name="score_with_challenger",
            ),
            Node(
                record_challenger_run,
                inputs=[
                    "challenger_scores",
                    "challenger_scores_tally",
                    "challenger_leads_to_score",
                    "challenger_model_version",
                ],
                outputs=["stored_challenger_scores", "challenger_score_run"],
                name="record_challenger_run",
            ),
        ]
    )
    # Last: the call list and the challenger's scores are saved before an alert stops the run.
    check = Pipeline(
        [
            Node(
                check_score_run,
                inputs=[
                    "stored_challenger_scores",
                    "score_run",
                    "score_run_alerts",
                    "challenger_score_run",
                    "call_list_new_rows",
                ],
                outputs="score_run_checked",
                name="check_score_run",
            ),
        ]
    )
    return Pipeline([score, compare, store, shadow, check], tags="score_new")
