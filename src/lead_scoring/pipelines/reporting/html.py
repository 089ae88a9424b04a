"""Self-contained HTML pages: the model report and the raw-data profile.

The markup is in the Jinja2 templates beside this module (``templates/``); this module shapes
the data they show into formatted text. Images are embedded as base64 PNG and the pages carry
no script and no external link to a stylesheet or font, so they open offline, attached to an
email or from the MLflow UI.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any, NamedTuple

import jinja2
import pandas as pd

from lead_scoring.contract import COLD, HOT, TIERS, WARM
from lead_scoring.pipelines.reporting.nodes import business_sentences, score_range

# The two tier promises, as the report's tables name them.
HOT_PRECISION = f"{HOT} precision"
COLD_COMPLETERS_LOST = f"completers lost in {COLD}"

# The report's plots, in reading order: catalog key, title, and how to read it.
PLOTS = (
    (
        "roc_curve",
        "ROC curve",
        "How well the score ranks completers above non-completers, at every cut. "
        "The area under the curve (AUC) is the chance that a random completer outscores a random "
        "non-completer; 0.5 is a coin toss.",
    ),
    (
        "precision_recall",
        "Precision-recall curve",
        "Calling leads from the highest score down: the share of completers reached (recall) "
        "against the share of called leads who complete (precision).",
    ),
    (
        "calibration",
        "Calibration",
        "Whether a predicted 70% means that 7 in 10 such leads complete. Points on the diagonal "
        "are well calibrated; the Brier score is the mean squared error of the probability.",
    ),
    (
        "score_distribution",
        "Score distributions",
        "Predicted probabilities of leads who completed and of those who did not, with the tier "
        "cuts. The less the two overlap, the better the score separates them.",
    ),
    (
        "gains_lift",
        "Cumulative gains and lift",
        "Calling leads best-first: the share of all completers reached after each tenth of the "
        "leads, and how many times the overall completion rate each decile converts at.",
    ),
    (
        "feature_importance",
        "Feature importance",
        "Mean absolute SHAP value on a sample of holdout leads: how far, on average, each feature "
        "moves a lead's log-odds. The reasons a rep reads come from the same SHAP values. Rare "
        "features, such as website clicks, rank low on average even where they decide a lead.",
    ),
    (
        "cold_cut_confusion",
        f"Confusion matrix at the {COLD}-tier cut",
        f"What skipping the {COLD} tier does: completers and non-completers that are still "
        f"called ({HOT} or {WARM}) or skipped ({COLD}).",
    ),
)

METRICS = (
    ("roc_auc", "ROC AUC", "{:.4f}", "higher is better"),
    ("pr_auc", "PR AUC (average precision)", "{:.4f}", "higher is better"),
    ("log_loss", "Log loss", "{:.4f}", "lower is better"),
    ("brier", "Brier score", "{:.4f}", "lower is better"),
    ("accuracy", "Accuracy", "{:.3f}", "at the operating threshold"),
    ("precision", "Precision", "{:.3f}", "at the operating threshold"),
    ("recall", "Recall", "{:.3f}", "at the operating threshold"),
    ("f1", "F1", "{:.3f}", "at the operating threshold"),
)

# Decile table columns shown in the report: header and format.
DECILE_COLUMNS = {
    "decile": ("decile", "{}"),
    "leads": ("leads", "{:,}"),
    "completers": ("completers", "{:,}"),
    "completion_rate": ("completion rate", "{:.1%}"),
    "lift": ("lift", "{:.2f}"),
    "cumulative_completers_share": ("cumulative share of completers", "{:.1%}"),
    "min_probability": ("lowest probability", "{:.3f}"),
    "max_probability": ("highest probability", "{:.3f}"),
}

PROFILE_COLUMNS = {
    "column": ("column", None),
    "kind": ("type (as parsed)", None),
    "filled": ("filled cells", "{:,}"),
    "missing_share": ("missing", "{:.2%}"),
    "distinct": ("distinct values", "{:,}"),
    "summary": ("summary", None),
}


# Autoescape on: every value from a run (labels, run names, paths) is shown as text.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("lead_scoring.pipelines.reporting", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class Cell(NamedTuple):
    """A table cell's text, and its CSS class: "text" for left-aligned text, else None."""

    text: str
    css: str | None


class Table(NamedTuple):
    """A table's headers and rows of cells, as the templates' ``table`` macro draws them."""

    head: list[str]
    rows: list[list[Cell]]


def _format(value: Any, pattern: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    return pattern.format(value)


def table_data(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> Table:
    """``frame`` as table cells; columns in ``formats`` are formatted, others left as text."""
    formats = formats or {}
    rows = [
        [
            Cell(_format(value, formats[column]), None)
            if column in formats
            else Cell(str(value), "text")
            for column, value in zip(frame.columns, record, strict=True)
        ]
        for record in frame.itertuples(index=False)
    ]
    return Table([str(column) for column in frame.columns], rows)


def _renamed_table(frame: pd.DataFrame, columns: Mapping[str, tuple[str, str | None]]) -> Table:
    """``table_data`` of the listed columns under readable headers."""
    shown = frame[list(columns)].rename(columns={k: header for k, (header, _) in columns.items()})
    return table_data(shown, {header: fmt for header, fmt in columns.values() if fmt is not None})


def _base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _metrics_table(metrics: dict) -> Table:
    frame = pd.DataFrame(
        [
            {
                "metric": label,
                "CatBoost": _format(metrics.get(key), pattern),
                "logistic baseline": _format(metrics.get(f"baseline_{key}"), pattern),
                "note": note,
            }
            for key, label, pattern, note in METRICS
        ]
    )
    return table_data(frame, {"CatBoost": "{}", "logistic baseline": "{}"})


def _tiers_table(summary: dict) -> Table:
    cold_below, hot_from = summary["cold_below_score"], summary["hot_from_score"]
    ranges = {
        HOT: score_range(hot_from, 99),
        WARM: score_range(cold_below, hot_from - 1),
        COLD: score_range(1, cold_below - 1),
    }
    frame = pd.DataFrame(
        [
            {
                "tier": name,
                "score": ranges[name],
                "leads": summary["tiers"][name]["leads"],
                "share of leads": summary["tiers"][name]["share"],
                "completion rate": summary["tiers"][name]["completion_rate"],
                "share of completers": summary["tiers"][name]["share_of_completers"],
            }
            for name in TIERS
        ]
    )
    return table_data(
        frame,
        {
            "leads": "{:,}",
            "share of leads": "{:.1%}",
            "completion rate": "{:.1%}",
            "share of completers": "{:.1%}",
        },
    )


def _validation_tables(
    validation_summary: dict, quarantined_leads: pd.DataFrame
) -> tuple[Table, Table | None]:
    """The validation counts, and the most frequent first failures when rows were quarantined."""
    summary = pd.DataFrame(
        [
            ("rows read", validation_summary["rows_read"]),
            ("rows quarantined", validation_summary["rows_quarantined"]),
            ("rows valid", validation_summary["rows_valid"]),
            ("exact duplicates removed", validation_summary["duplicates_removed"]),
            ("rows kept for training", validation_summary["rows_kept"]),
        ],
        columns=["", "leads"],
    )
    if not len(quarantined_leads):
        return table_data(summary, {"leads": "{:,}"}), None
    reasons = (
        (quarantined_leads["column"].astype("str") + ": " + quarantined_leads["rule"])
        .value_counts()
        .head(5)
        .rename_axis("most frequent first failure")
        .reset_index(name="leads")
    )
    return table_data(summary, {"leads": "{:,}"}), table_data(reasons, {"leads": "{:,}"})


# Backtest table columns shown in the report: header and format.
BACKTEST_COLUMNS = {
    "period": ("period", None),
    "month": ("month", None),
    "leads": ("leads", "{:,}"),
    "completion_rate": ("completion rate", "{:.1%}"),
    "mean_probability": ("mean probability", "{:.1%}"),
    "roc_auc": ("ROC AUC", "{:.4f}"),
    "pr_auc": ("PR AUC", "{:.4f}"),
    "hot_precision": (HOT_PRECISION, "{:.1%}"),
    "cold_completers_lost": (COLD_COMPLETERS_LOST, "{:.1%}"),
}


# Holdout segment columns shown in the report: header and format.
SEGMENT_COLUMNS = {
    "dimension": ("dimension", None),
    "segment": ("segment", None),
    "leads": ("leads", "{:,}"),
    "completers": ("completers", "{:,}"),
    "roc_auc": ("ROC AUC", "{:.4f}"),
    "hot_precision": (HOT_PRECISION, "{:.1%}"),
}


def _promises_table(holdout_metrics: dict) -> Table:
    """The tier promises realised on the holdout, next to their targets."""
    promises = pd.DataFrame(
        [
            {
                "promise": HOT_PRECISION,
                "target": f">= {holdout_metrics['hot_precision_target']:.0%}",
                "realised on the holdout": f"{holdout_metrics['hot_precision']:.1%}",
            },
            {
                "promise": COLD_COMPLETERS_LOST,
                "target": f"<= {holdout_metrics['cold_completers_lost_target']:.0%}",
                "realised on the holdout": f"{holdout_metrics['cold_completers_lost']:.1%}",
            },
        ]
    )
    return table_data(promises)


def model_report_context(
    holdout_metrics: dict,
    business_summary: dict,
    decile_table: pd.DataFrame,
    validation_summary: dict,
    quarantined_leads: pd.DataFrame,
    mlflow_run_info: dict,
    operating_threshold: float,
    backtest_table: pd.DataFrame,
    registered_model: dict,
    plots: Mapping[str, bytes],
    holdout_segments: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """What ``model_report.html.j2`` shows, every number formatted."""
    summary = business_summary
    run = mlflow_run_info
    validation, reasons = _validation_tables(validation_summary, quarantined_leads)
    months = backtest_table.assign(period=backtest_table["period"].astype(str))
    return {
        "run": run,
        "holdout": {
            "leads": f"{summary['leads']:,}",
            "period": f"{summary['period_start']} to {summary['period_end']}",
            "completion_rate": f"{summary['completion_rate']:.1%}",
        },
        "cards": [
            {"value": value, "label": label}
            for value, label in [
                (f"{holdout_metrics['roc_auc']:.3f}", "ROC AUC on the holdout"),
                (f"{holdout_metrics['baseline_roc_auc']:.3f}", "ROC AUC of the logistic baseline"),
                (f"{holdout_metrics['pr_auc']:.3f}", "PR AUC"),
                (f"{holdout_metrics['brier']:.4f}", "Brier score"),
                (f"{summary['tiers'][HOT]['completion_rate']:.1%}", f"of {HOT} leads complete"),
                (f"{summary['cold_completers_lost_share']:.1%}", f"of completers fall in {COLD}"),
                (f"{summary['calls_saved_per_1000_leads']:.0f}", "calls saved per 1,000 leads"),
            ]
        ],
        "sentences": business_sentences(summary),
        "tiers": _tiers_table(summary),
        "operating_threshold": f"{operating_threshold:g}",
        "metrics": _metrics_table(holdout_metrics),
        "promises": _promises_table(holdout_metrics),
        "months": _renamed_table(months, BACKTEST_COLUMNS),
        "registered": {
            "leads": f"{registered_model['leads']:,}",
            "newest_lead": registered_model["newest_lead"],
            "trees": f"{registered_model['trees']:,}",
            "measured_trees": f"{registered_model['measured_trees']:,}",
            "recency_half_life_days": registered_model["recency_half_life_days"],
        },
        "plots": [
            {"title": title, "png": _base64(plots[key]), "caption": caption}
            for key, title, caption in PLOTS
            if key in plots
        ],
        "deciles": _renamed_table(decile_table, DECILE_COLUMNS),
        "segments": None
        if holdout_segments is None or holdout_segments.empty
        else _renamed_table(holdout_segments, SEGMENT_COLUMNS),
        "validation": validation,
        "quarantine_share": f"{validation_summary['quarantine_share']:.2%}",
        "reasons": reasons,
        "mlflow": [
            (term, "n/a" if value is None else value)
            for term, value in [
                ("tracking URI", run["tracking_uri"]),
                ("experiment", f"{run['experiment_name']} (id {run['experiment_id']})"),
                ("run id", run["run_id"]),
                ("run name", run["run_name"]),
                ("artifacts", run["artifact_uri"]),
                ("registered model", run["registered_model"]),
            ]
        ],
    }


def render_model_report(
    holdout_metrics: dict,
    business_summary: dict,
    decile_table: pd.DataFrame,
    validation_summary: dict,
    quarantined_leads: pd.DataFrame,
    mlflow_run_info: dict,
    operating_threshold: float,
    backtest_table: pd.DataFrame,
    registered_model: dict,
    holdout_segments: pd.DataFrame | None = None,
    **plots: bytes,
) -> str:
    """One self-contained HTML page: metrics, plots, deciles, business view, data, MLflow run."""
    context = model_report_context(
        holdout_metrics,
        business_summary,
        decile_table,
        validation_summary,
        quarantined_leads,
        mlflow_run_info,
        operating_threshold,
        backtest_table,
        registered_model,
        plots,
        holdout_segments,
    )
    return _TEMPLATES.get_template("model_report.html.j2").render(context)


def distribution_chart(title: str, rows: list[dict]) -> bytes:
    """A PNG of a distribution: each value's share of leads, and its completion rate if known."""
    from matplotlib.figure import Figure

    # A bare Figure, not pyplot: no global state, no display backend needed in a headless run.
    figure = Figure(figsize=(5.2, 0.32 * len(rows) + 0.9), layout="constrained")
    ax = figure.subplots()
    labels = [str(row["value"]) for row in rows][::-1]
    ax.barh(labels, [row["share"] for row in rows][::-1], color="#4c72b0", label="share of leads")
    rates = [row["completion_rate"] for row in rows][::-1]
    if any(rate is not None for rate in rates):
        known = [
            (label, rate) for label, rate in zip(labels, rates, strict=True) if rate is not None
        ]
        ax.plot(
            [rate for _, rate in known],
            [label for label, _ in known],
            "o",
            color="#dd8452",
            label="completion rate",
        )
        ax.legend(loc="lower right", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, axis="x")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _distribution(title: str, rows: list[dict]) -> dict[str, Any]:
    """One key column's chart and table rows, formatted."""
    return {
        "title": title,
        "png": _base64(distribution_chart(title, rows)),
        "with_rates": any(row["completion_rate"] is not None for row in rows),
        "rows": [
            {
                "value": row["value"],
                "leads": f"{row['leads']:,}",
                "share": f"{row['share']:.1%}",
                "width": f"{100 * row['share']:.1f}",
                "completion_rate": _format(row["completion_rate"], "{:.1%}"),
            }
            for row in rows
        ],
    }


def data_profile_context(raw_data_profile: dict) -> dict[str, Any]:
    """What ``raw_data_profile.html.j2`` shows, every number formatted."""
    profile = raw_data_profile
    return {
        "rows": f"{profile['rows']:,}",
        "missing_columns": ", ".join(profile["missing_columns"]),
        "extra_columns": ", ".join(profile["extra_columns"]),
        "columns": _renamed_table(pd.DataFrame(profile["columns"]), PROFILE_COLUMNS),
        "distributions": [
            _distribution(title, rows) for title, rows in profile["distributions"].items() if rows
        ],
    }


def render_data_profile(raw_data_profile: dict) -> str:
    """The raw-data profile as a self-contained HTML page."""
    context = data_profile_context(raw_data_profile)
    return _TEMPLATES.get_template("raw_data_profile.html.j2").render(context)
