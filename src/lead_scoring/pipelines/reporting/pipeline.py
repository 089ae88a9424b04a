"""Reporting: what a data scientist and sales operations read after a train run.

Every plot is a ``<name>_plot`` dataset that saves a figure and loads back its PNG, so the HTML
report takes the plots as inputs and the lineage shows which plot feeds it.
"""

from kedro.pipeline import Node, Pipeline

from lead_scoring.pipelines.reporting.html import PLOTS, render_data_profile, render_model_report
from lead_scoring.pipelines.reporting.nodes import (
    build_decile_table,
    compute_shap_importance,
    describe_business_impact,
    describe_mlflow_run,
    plot_calibration,
    plot_cold_cut_confusion,
    plot_feature_importance,
    plot_gains_and_lift,
    plot_precision_recall_curves,
    plot_roc_curves,
    plot_score_distributions,
    profile_raw_leads,
    summarise_business_impact,
)
from lead_scoring.pipelines.reporting.segments import measure_holdout_segments


def _node(func, inputs, outputs) -> Node:
    return Node(func, inputs=inputs, outputs=outputs, name=func.__name__)


def _plot_node(func, inputs: list[str], name: str) -> Node:
    return Node(func, inputs=inputs, outputs=f"{name}_plot", name=f"plot_{name}", tags="plots")


def create_pipeline(**kwargs) -> Pipeline:
    """Holdout tables and plots, the business view, the raw-data profile and the HTML report."""
    evaluation = Pipeline(
        [
            _node(
                build_decile_table,
                ["holdout_predictions", "params:reporting"],
                "holdout_decile_table",
            ),
            _node(
                measure_holdout_segments,
                ["holdout_predictions", "model_input_holdout", "params:reporting.segments"],
                "holdout_segments",
            ),
            _node(
                compute_shap_importance,
                ["measured_model", "model_input_holdout", "params:reporting"],
                "shap_feature_importance",
            ),
            _plot_node(plot_roc_curves, ["holdout_predictions", "holdout_metrics"], "roc_curve"),
            _plot_node(
                plot_precision_recall_curves,
                ["holdout_predictions", "holdout_metrics"],
                "precision_recall",
            ),
            _plot_node(
                plot_calibration,
                ["holdout_predictions", "holdout_metrics", "params:reporting"],
                "calibration",
            ),
            _plot_node(
                plot_score_distributions,
                ["holdout_predictions", "tier_cuts", "params:reporting"],
                "score_distribution",
            ),
            _plot_node(plot_gains_and_lift, ["holdout_decile_table"], "gains_lift"),
            _plot_node(plot_feature_importance, ["shap_feature_importance"], "feature_importance"),
            _plot_node(
                plot_cold_cut_confusion, ["holdout_predictions", "tier_cuts"], "cold_cut_confusion"
            ),
        ],
        tags="model_evaluation",
    )
    business = Pipeline(
        [
            _node(
                summarise_business_impact,
                ["holdout_predictions", "tier_cuts"],
                ["business_summary", "business_metrics_mlflow"],
            ),
            _node(describe_business_impact, "business_summary", "business_summary_text"),
        ],
        tags="business_view",
    )
    profile_inputs = [
        "raw_leads",
        "interaction_mapping",
        "city_tiers",
        "params:ingestion.index_column",
        "params:feature_engineering.default_city_tier",
        "params:reporting.profile",
        "validation_summary",
    ]
    profile = Pipeline(
        [
            _node(profile_raw_leads, profile_inputs, "raw_data_profile"),
            _node(render_data_profile, "raw_data_profile", "raw_data_profile_html"),
        ],
        tags="data_profile",
    )
    report_inputs = {
        "holdout_metrics": "holdout_metrics",
        "business_summary": "business_summary",
        "decile_table": "holdout_decile_table",
        "validation_summary": "validation_summary",
        "quarantined_leads": "quarantined_leads",
        "mlflow_run_info": "mlflow_run_info",
        "operating_threshold": "params:training.operating_threshold",
        "backtest_table": "backtest_table",
        "registered_model": "registered_model_summary",
        "holdout_segments": "holdout_segments",
        **{key: f"{key}_plot" for key, _, _ in PLOTS},
    }
    report = Pipeline(
        [
            _node(describe_mlflow_run, "holdout_metrics", "mlflow_run_info"),
            _node(render_model_report, report_inputs, "model_report"),
        ],
        tags="model_report",
    )
    return Pipeline([evaluation, business, profile, report], tags="reporting")
