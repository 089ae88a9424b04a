"""score_new: `kedro run --pipeline=score_new` scores the stored leads the champion has not."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.score_new.nodes import (
    check_score_run,
    collect_scores,
    describe_model_training,
    find_challenger_version,
    list_new_calls,
    load_challenger_model,
    record_challenger_run,
    record_score_run,
    score_run_alerts,
    select_challenger_leads,
    select_leads_to_score,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Select the due leads; store the champion's scores, alert, list the calls; select, load
    and store the challenger's in shadow; check last.

    The registry scores ``leads_to_score`` and ``challenger_leads_to_score`` with batch
    scoring's nodes into ``new_``/``challenger_scored_chunks`` and ``_scores_tally``, and
    measures the champion's drift (``new_scores_drift``) with monitoring's.
    """
    return Pipeline(
        [
            Node(
                select_leads_to_score,
                inputs=["lead_store", "scoring_model_version", "params:score_new"],
                outputs="leads_to_score",
                name="select_leads_to_score",
            ),
            Node(
                collect_scores,
                inputs=["new_scored_chunks", "leads_to_score"],
                outputs=["new_scores", "new_scores_quarantine"],
                name="collect_scores",
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
            # The challenger selects its leads from the store after the champion's scores are
            # stored: the champion's model is released by then, so the two models are never in
            # memory at once.
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
                load_challenger_model,
                inputs=["challenger_model_version", "challenger_leads_to_score"],
                outputs="challenger_model",
                name="load_challenger_model",
            ),
            Node(
                collect_scores,
                inputs=["challenger_scored_chunks", "challenger_leads_to_score"],
                outputs=["challenger_scores", "challenger_scores_quarantine"],
                name="collect_challenger_scores",
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
            # Last: the call list and the challenger's scores are saved before an alert stops
            # the run.
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
        ],
        tags="score_new",
    )
