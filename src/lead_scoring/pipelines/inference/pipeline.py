"""Batch scoring: `kedro run --pipeline=inference` scores an export and monitors its drift.

Scoring calls the registered model's ``predict``, the code that `mlflow models serve` runs, so
batch and online scores agree; ``score_chunk`` scores any slice of an export in one call.
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines import monitoring
from lead_scoring.pipelines.inference.nodes import (
    find_model_version,
    load_scoring_model,
    measure_realised_performance,
    score_chunk,
    split_predictions,
    summarise_batch,
)
from lead_scoring.pipelines.ingestion.nodes import normalise_raw_leads


def create_pipeline(**kwargs) -> Pipeline:
    """Score new leads with the registered model, then compare them with its training data."""
    scoring = Pipeline(
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
                score_chunk,
                inputs=["scoring_model", "new_leads", "scoring_model_version"],
                outputs="lead_predictions",
                name="score_new_leads",
            ),
            Node(
                split_predictions,
                inputs="lead_predictions",
                outputs=["scored_leads", "scoring_quarantine"],
                name="split_predictions",
            ),
            Node(
                normalise_raw_leads,
                inputs=["new_leads", "interaction_mapping", "params:ingestion"],
                outputs="new_leads_normalised",
                name="normalise_new_leads",
            ),
            Node(
                measure_realised_performance,
                inputs=["new_leads_normalised", "lead_predictions"],
                outputs="realised_metrics_mlflow",
                name="measure_realised_performance",
            ),
            # Waits for the drift alerts, so the counts are the run's last words.
            Node(
                summarise_batch,
                inputs=["lead_predictions", "drift_alerts"],
                outputs="batch_metrics_mlflow",
                name="summarise_batch",
            ),
        ],
        tags="inference",
    )
    return scoring + monitoring.create_pipeline()
