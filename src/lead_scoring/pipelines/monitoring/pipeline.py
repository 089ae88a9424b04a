"""Monitoring: the training reference profile, and drift of each scored batch against it."""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.monitoring.nodes import (
    build_reference_profile,
    compare_with_reference,
    drift_history_rows,
    drift_metrics,
    flag_drift,
    load_drift_reference,
    plot_drift,
)


def create_reference_pipeline(**kwargs) -> Pipeline:
    """Profile the model input and the holdout scores at training, logged with the model's run."""
    return Pipeline(
        [
            Node(
                build_reference_profile,
                inputs=[
                    # The registered model's own rows: it is refit on every labelled lead.
                    "model_input_labelled",
                    "clean_leads",
                    "holdout_predictions",
                    "category_vocabulary",
                    "interaction_mapping",
                    "params:monitoring",
                ],
                outputs="drift_reference",
                name="build_drift_reference",
            )
        ],
        tags="monitoring",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Compare a scored batch with the reference of the model that scored it."""
    return Pipeline(
        [
            Node(
                load_drift_reference,
                inputs=["scoring_model_version", "params:monitoring"],
                outputs="scoring_drift_reference",
                name="load_drift_reference",
            ),
            Node(
                compare_with_reference,
                inputs=[
                    "batch_profile",
                    "scoring_drift_reference",
                    "scoring_model_version",
                    "params:monitoring",
                ],
                outputs="drift_report",
                name="compare_with_reference",
            ),
            Node(
                drift_history_rows,
                inputs="drift_report",
                outputs="drift_history",
                name="append_drift_history",
            ),
            Node(
                drift_metrics,
                inputs="drift_report",
                outputs="drift_metrics_mlflow",
                name="log_drift_metrics",
            ),
            Node(
                plot_drift,
                inputs=["drift_report", "params:monitoring"],
                outputs="drift_plot",
                name="plot_drift",
            ),
            Node(
                flag_drift,
                inputs=["drift_report", "params:monitoring"],
                outputs="drift_alerts",
                name="flag_drift",
            ),
        ],
        tags="monitoring",
    )
