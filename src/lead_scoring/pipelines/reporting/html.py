"""Self-contained HTML pages: the model report, the raw-data profile and realised performance.

The markup is in the Jinja2 templates of ``templates/``. Images are embedded as base64 PNG and the
pages carry no script and no external link, so they open offline, attached to an email or from
the MLflow UI.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any, NamedTuple

import jinja2
import pandas as pd

from lead_scoring.contract import COLD, HOT, TIERS, WARM
from lead_scoring.heavy_types import Figure
from lead_scoring.pipelines.reporting.nodes import business_sentences, tier_score_ranges

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

# Columns of the report's tables: header and format (None: shown as text).
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

TIER_COLUMNS = {
    "tier": ("tier", None),
    "score": ("score", None),
    "leads": ("leads", "{:,}"),
    "share": ("share of leads", "{:.1%}"),
    "completion_rate": ("completion rate", "{:.1%}"),
    "share_of_completers": ("share of completers", "{:.1%}"),
}

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

SEGMENT_COLUMNS = {
    "dimension": ("dimension", None),
    "segment": ("segment", None),
    "leads": ("leads", "{:,}"),
    "completers": ("completers", "{:,}"),
    "roc_auc": ("ROC AUC", "{:.4f}"),
    "hot_precision": (HOT_PRECISION, "{:.1%}"),
}

PROFILE_COLUMNS = {
    "column": ("column", None),
    "kind": ("type (as parsed)", None),
    "filled": ("filled cells", "{:,}"),
    "missing_share": ("missing", "{:.2%}"),
    "distinct": ("distinct values", "{:,}"),
    "summary": ("summary", None),
}

VALIDATION_ROWS = {
    "rows_read": "rows read",
    "rows_quarantined": "rows quarantined",
    "rows_valid": "rows valid",
    "duplicates_removed": "exact duplicates removed",
    "rows_kept": "rows kept for training",
}

# Rows of realised_performance shown on the page: header and format.
REALISED_COLUMNS = {
    "model_version": ("version", None),
    "role": ("role", None),
    "period": ("period", None),
    "labelled_leads": ("labelled leads", "{:,}"),
    "completers": ("completers", "{:,}"),
    "roc_auc": ("ROC AUC", "{:.4f}"),
    "holdout_roc_auc": ("holdout ROC AUC", "{:.4f}"),
    "pr_auc": ("PR AUC", "{:.4f}"),
    "hot_precision": ("hot precision", "{:.1%}"),
    "holdout_hot_precision": ("holdout hot precision", "{:.1%}"),
    "cold_completers_lost": ("completers scored cold", "{:,}"),
    "mean_probability": ("mean probability", "{:.1%}"),
    "completion_rate": ("completion rate", "{:.1%}"),
    "note": ("note", None),
}
COMPARED_SEGMENT_COLUMNS = {
    "dimension": ("dimension", None),
    "segment": ("segment", None),
    "holdout_leads": ("holdout leads", "{:,}"),
    "holdout_roc_auc": ("holdout ROC AUC", "{:.4f}"),
    "holdout_hot_precision": ("holdout hot precision", "{:.1%}"),
    "realised_leads": ("realised leads", "{:,}"),
    "realised_roc_auc": ("realised ROC AUC", "{:.4f}"),
    "realised_hot_precision": ("realised hot precision", "{:.1%}"),
}
FIGURE_PLOTS = (
    (
        "roc_auc",
        "holdout_roc_auc",
        "Realised ROC AUC per month",
        (0.5, 1.0),
        "Each version's ROC AUC on the leads created that month whose outcome is known (solid "
        "as champion, dotted as challenger), "
        "next to the ROC AUC its holdout promised (dashed, same colour). A month with too few "
        "outcomes of either kind has no point.",
    ),
    (
        "hot_precision",
        "holdout_hot_precision",
        "Realised hot precision per month",
        (0.0, 1.0),
        "The share of each version's hot leads that completed, next to the hot precision "
        "its holdout promised (dashed, same colour).",
    ),
)


# Autoescape on: every value from a run (labels, run names, paths) is shown as text.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("lead_scoring.pipelines.reporting", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class Table(NamedTuple):
    """A table for the templates' ``table`` macro: columns in ``formats`` are formatted numbers,
    the others left-aligned text."""

    frame: pd.DataFrame
    formats: Mapping[str, str] = {}


def _format(value: Any, pattern: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    return pattern.format(value)


# Templates format a raw number with ``{{ value|fmt("{:,}") }}``: "n/a" where it is missing.
_TEMPLATES.filters["fmt"] = _format


def _renamed_table(frame: pd.DataFrame, columns: Mapping[str, tuple[str, str | None]]) -> Table:
    """The listed columns of ``frame`` under readable headers."""
    shown = frame[list(columns)].rename(columns={k: header for k, (header, _) in columns.items()})
    return Table(shown, {header: fmt for header, fmt in columns.values() if fmt is not None})


def _base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _metrics_table(metrics: dict) -> Table:
    rows = [
        (label, _format(metrics.get(key), fmt), _format(metrics.get(f"baseline_{key}"), fmt), note)
        for key, label, fmt, note in METRICS
    ]
    columns = ["metric", "CatBoost", "logistic baseline", "note"]
    return Table(pd.DataFrame(rows, columns=columns), {"CatBoost": "{}", "logistic baseline": "{}"})


def _tiers_table(summary: dict) -> Table:
    ranges = tier_score_ranges(summary)
    frame = pd.DataFrame(
        [{"tier": name, "score": ranges[name], **summary["tiers"][name]} for name in TIERS]
    )
    return _renamed_table(frame, TIER_COLUMNS)


def _promises_table(metrics: dict) -> Table:
    """The tier promises realised on the holdout, next to their targets."""
    promises = [
        (name, f"{sign} {metrics[f'{key}_target']:.0%}", f"{metrics[key]:.1%}")
        for name, sign, key in (
            (HOT_PRECISION, ">=", "hot_precision"),
            (COLD_COMPLETERS_LOST, "<=", "cold_completers_lost"),
        )
    ]
    return Table(pd.DataFrame(promises, columns=["promise", "target", "realised on the holdout"]))


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
    holdout_segments: pd.DataFrame,
    **plots: bytes,
) -> str:
    """One self-contained HTML page: metrics, plots, deciles, business view, data, MLflow run."""
    summary, metrics = business_summary, holdout_metrics
    counts = pd.DataFrame(
        {"": VALIDATION_ROWS.values(), "leads": [validation_summary[k] for k in VALIDATION_ROWS]}
    )
    reasons = None
    if len(quarantined_leads):
        first_failures = (
            quarantined_leads["column"].astype("str") + ": " + quarantined_leads["rule"]
        )
        top = first_failures.value_counts().head(5).rename_axis("most frequent first failure")
        reasons = Table(top.reset_index(name="leads"), {"leads": "{:,}"})
    cards = [
        (f"{metrics['roc_auc']:.3f}", "ROC AUC on the holdout"),
        (f"{metrics['baseline_roc_auc']:.3f}", "ROC AUC of the logistic baseline"),
        (f"{metrics['pr_auc']:.3f}", "PR AUC"),
        (f"{metrics['brier']:.4f}", "Brier score"),
        (f"{summary['tiers'][HOT]['completion_rate']:.1%}", f"of {HOT} leads complete"),
        (f"{summary['cold_completers_lost_share']:.1%}", f"of completers fall in {COLD}"),
        (f"{summary['calls_saved_per_1000_leads']:.0f}", "calls saved per 1,000 leads"),
    ]
    segments = _renamed_table(holdout_segments, SEGMENT_COLUMNS) if len(holdout_segments) else None
    return _TEMPLATES.get_template("model_report.html.j2").render(
        run=mlflow_run_info,
        summary=summary,
        cards=cards,
        sentences=business_sentences(summary),
        tiers=_tiers_table(summary),
        operating_threshold=f"{operating_threshold:g}",
        metrics=_metrics_table(metrics),
        promises=_promises_table(metrics),
        months=_renamed_table(backtest_table.astype({"period": str}), BACKTEST_COLUMNS),
        registered=registered_model,
        plots=[
            (title, _base64(plots[key]), caption) for key, title, caption in PLOTS if key in plots
        ],
        deciles=_renamed_table(decile_table, DECILE_COLUMNS),
        segments=segments,
        validation=Table(counts, {"leads": "{:,}"}),
        quarantine_share=validation_summary["quarantine_share"],
        reasons=reasons,
    )


def distribution_chart(title: str, rows: list[dict]) -> Figure:
    """A distribution: each value's share of leads, and its completion rate if known."""
    from matplotlib.figure import Figure

    # A bare Figure, not pyplot: no global state, no display backend needed in a headless run.
    figure = Figure(figsize=(5.2, 0.32 * len(rows) + 0.9), layout="constrained")
    ax = figure.subplots()
    shown = pd.DataFrame(rows).iloc[::-1].astype({"value": str})
    ax.barh(shown["value"], shown["share"], color="#4c72b0", label="share of leads")
    if any(row["completion_rate"] is not None for row in rows):
        ax.plot(
            shown["completion_rate"], shown["value"], "o", color="#dd8452", label="completion rate"
        )
        ax.legend(loc="lower right", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, axis="x")
    return figure


def png_base64(figure: Figure) -> str:
    """``figure`` as a base64 PNG, to embed in a page."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return _base64(buffer.getvalue())


def render_data_profile(raw_data_profile: dict) -> str:
    """The raw-data profile as a self-contained HTML page."""
    charts = [
        {
            "title": title,
            "png": png_base64(distribution_chart(title, rows)),
            "with_rates": any(row["completion_rate"] is not None for row in rows),
            "rows": rows,
        }
        for title, rows in raw_data_profile["distributions"].items()
        if rows
    ]
    return _TEMPLATES.get_template("raw_data_profile.html.j2").render(
        profile=raw_data_profile,
        columns=_renamed_table(pd.DataFrame(raw_data_profile["columns"]), PROFILE_COLUMNS),
        distributions=charts,
    )


def realised_plot(
    monthly: pd.DataFrame,
    figure_name: str,
    promised_name: str,
    title: str,
    limits: tuple[float, float],
) -> Figure:
    """One figure per month, a line per version and role, the promise dashed beside it."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = figure.subplots()
    months = sorted(monthly["period"].unique())
    palette = ["#1f5fa8", "#dd8452", "#2e8b57", "#c0504d", "#8172b2", "#937860"]
    versions = sorted(monthly["model_version"].unique(), key=lambda v: (len(v), v))
    colour = {v: palette[i % len(palette)] for i, v in enumerate(versions)}
    styles = {"champion": "o-", "challenger": "s:"}
    for (version, role), rows in monthly.groupby(["model_version", "role"], sort=True):
        rows = rows.set_index("period").reindex(months)
        ax.plot(
            months,
            rows[figure_name],
            styles.get(role, "o-"),
            color=colour[version],
            label=f"v{version} {role}",
        )
    # One promise per version, whatever roles it scored in.
    for version, rows in monthly.groupby("model_version", sort=True):
        promised = rows[promised_name].dropna()
        if len(promised):
            ax.axhline(
                promised.iloc[0], color=colour[version], linestyle="--", label=f"v{version} holdout"
            )
    low, high = limits
    values = pd.concat([monthly[figure_name], monthly[promised_name]]).dropna()
    ax.set_ylim(min(low, values.min()) if len(values) else low, high)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("month the leads were created", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return figure


def render_realised_performance_page(
    realised: pd.DataFrame, promised: pd.DataFrame, segments: pd.DataFrame, champion: dict
) -> str:
    """The realised performance of every version as one self-contained HTML page."""
    rows = realised.merge(
        promised.drop(columns=["run_id"]), on=["model_name", "model_version"], how="left"
    )
    rows["note"] = rows["note"].fillna("")
    monthly = rows.loc[rows["period"] != "all"]
    plots = []
    if len(monthly):
        for figure_name, promised_name, title, limits, caption in FIGURE_PLOTS:
            figure = realised_plot(monthly, figure_name, promised_name, title, limits)
            plots.append((title, png_base64(figure), caption))
    return _TEMPLATES.get_template("realised_performance.html.j2").render(
        measured_at=realised["measured_at"].max() if len(realised) else "never",
        champion=f"{champion['name']} version {champion['version']}" if champion else None,
        overall=_renamed_table(rows.loc[rows["period"] == "all"], REALISED_COLUMNS),
        monthly=_renamed_table(monthly, REALISED_COLUMNS),
        plots=plots,
        segments=_renamed_table(segments, COMPARED_SEGMENT_COLUMNS) if len(segments) else None,
    )
