"""Monitoring: the training reference profile, and drift of each scored batch against it."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.monitoring.nodes import (
    build_reference_profile,
    compare_with_reference,
    count_drifting_features,
    drift_history_rows,
    drift_metrics,
    flag_drift,
    load_drift_reference,
    plot_drift,
    profile_scored_batch,
)


def create_reference_pipeline(**kwargs) -> Pipeline:
    """Profile the model input and the holdout scores at training, logged with the model's run."""
    reference_inputs = [
        # The registered model's own rows: it is refit on every labelled lead.
        "model_input_labelled",
        "clean_leads",
        "holdout_predictions",
        "category_vocabulary",
        "interaction_mapping",
        "params:monitoring",
    ]
    return Pipeline(
        [
            Node(
                build_reference_profile,
                reference_inputs,
                "drift_reference",
                name="build_drift_reference",
            )
        ],
        tags="monitoring",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The scoring version's training reference, the scored batch's profile as the model saw it,
    and the drift between them: report, history, plot, metrics and alerts."""
    return Pipeline(
        [
            Node(
                load_drift_reference,
                ["scoring_model_version", "params:monitoring"],
                "scoring_drift_reference",
                name="load_drift_reference",
            ),
            Node(
                profile_scored_batch,
                ["scored_chunks", "scoring_drift_reference", "params:monitoring"],
                "batch_profile",
                name="profile_scored_batch",
            ),
            Node(
                compare_with_reference,
                [
                    "batch_profile",
                    "scoring_drift_reference",
                    "scoring_model_version",
                    "params:monitoring",
                ],
                "drift_report",
                name="compare_with_reference",
            ),
            Node(drift_history_rows, "drift_report", "drift_history", name="append_drift_history"),
            Node(drift_metrics, "drift_report", "drift_metrics_mlflow", name="log_drift_metrics"),
            Node(
                plot_drift, ["drift_report", "params:monitoring"], "drift_plot", name="plot_drift"
            ),
            Node(
                flag_drift, ["drift_report", "params:monitoring"], "drift_alerts", name="flag_drift"
            ),
            Node(
                count_drifting_features,
                "drift_alerts",
                "batch_drift_metrics_mlflow",
                name="count_drifting_features",
            ),
        ],
        tags="monitoring",
    )
