"""Batch scoring: `kedro run --pipeline=inference` scores an export and monitors its drift.

Scoring calls the registered model's ``predict``, the code that `mlflow models serve` runs, so
batch and online scores agree. The export is read and scored a chunk at a time and the outputs
stream to disk, so a batch of any size goes through the same nodes in flat memory.
"""

import functools
from collections.abc import Callable, Iterator

import pandas as pd
from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines import monitoring
from lead_scoring.pipelines.inference.call_list import with_call_list
from lead_scoring.pipelines.inference.nodes import (
    batch_profile,
    find_model_version,
    load_scoring_model,
    measure_realised_performance,
    score_in_chunks,
    summarise_batch,
)


def _emptied_once_saved(
    chunks_of: Callable[..., Iterator[tuple]],
) -> Callable[..., Iterator[tuple]]:
    """The generator node ``chunks_of``, with each chunk's frames emptied once Kedro saved them."""

    @functools.wraps(chunks_of)
    def chunks(*args, **kwargs) -> Iterator[tuple]:
        for outputs in chunks_of(*args, **kwargs):
            yield outputs
            # Kedro asks for the next chunk only once it has saved this one, but it splits the
            # chunks of a node with several outputs through itertools.tee, whose buffer frees
            # them 57 at a time: every chunk stayed in memory to the end and a 4x larger export
            # took 2.6x the memory. Emptied, down to their row labels, the frames hold nothing.
            for output in outputs:
                if isinstance(output, pd.DataFrame):
                    output.index = pd.RangeIndex(len(output))
                    for column in list(output.columns):
                        del output[column]

    return chunks


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
                _emptied_once_saved(with_call_list(score_in_chunks)),
                inputs=[
                    "scoring_model",
                    "new_leads",
                    "scoring_model_version",
                    "scoring_drift_reference",
                    "city_tiers",
                    "interaction_mapping",
                    "params:inference",
                    "params:ingestion",
                    "params:validation",
                    "params:feature_engineering",
                ],
                outputs=["scored_leads", "scoring_quarantine", "batch_tally", "call_list"],
                name="score_in_chunks",
            ),
            Node(
                batch_profile, inputs="batch_tally", outputs="batch_profile", name="batch_profile"
            ),
            Node(
                measure_realised_performance,
                inputs="batch_tally",
                outputs="realised_metrics_mlflow",
                name="measure_realised_performance",
            ),
            # Waits for the drift alerts, so the counts are the run's last words.
            Node(
                summarise_batch,
                inputs=["batch_tally", "drift_alerts"],
                outputs="batch_metrics_mlflow",
                name="summarise_batch",
            ),
        ],
        tags="inference",
    )
    return scoring + monitoring.create_pipeline()
