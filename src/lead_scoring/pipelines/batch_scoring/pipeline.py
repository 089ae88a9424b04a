"""Batch scoring: `kedro run --pipeline=batch_scoring` scores an export with the registered model.

Scoring calls the registered model's ``predict``, the code that `mlflow models serve` runs, so
batch and online scores agree. The export is read and scored a chunk at a time into the run's
scored chunks, which each later node reads back a chunk at a time: a batch of any size goes
through the same nodes in flat memory. Drift monitoring reads the same chunks, and score_new
reuses the model and scoring nodes on the store's leads (the registry joins them).
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.batch_scoring.call_list import list_calls
from lead_scoring.pipelines.batch_scoring.nodes import (
    count_batch,
    find_model_version,
    list_quarantined_leads,
    list_scored_leads,
    load_scoring_model,
    measure_realised_performance,
    score_export,
    summarise_batch,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Resolve and load the registered model; score new leads; write scores, quarantine, call
    list, counts."""
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
                score_export,
                inputs=["scoring_model", "new_leads", "scoring_model_version", "params:inference"],
                outputs="scored_chunks",
                name="score_export",
            ),
            Node(
                list_scored_leads,
                inputs="scored_chunks",
                outputs="scored_leads",
                name="list_scored_leads",
            ),
            Node(
                list_quarantined_leads,
                inputs="scored_chunks",
                outputs="scoring_quarantine",
                name="list_quarantined_leads",
            ),
            Node(list_calls, inputs="scored_chunks", outputs="call_list", name="list_calls"),
            Node(count_batch, inputs="scored_chunks", outputs="batch_tally", name="count_batch"),
            Node(
                measure_realised_performance,
                inputs="batch_tally",
                outputs="realised_metrics_mlflow",
                name="measure_realised_performance",
            ),
            Node(
                summarise_batch,
                inputs="batch_tally",
                outputs="batch_metrics_mlflow",
                name="summarise_batch",
            ),
        ],
        tags="batch_scoring",
    )
