"""The realised performance page: how each model version did on real outcomes, month by month."""

from __future__ import annotations

import pandas as pd

from lead_scoring.heavy_types import Figure
from lead_scoring.pipelines.reporting.html import _TEMPLATES, _renamed_table, png_base64

# matplotlib: imported where used, not on every `kedro` start (seconds).

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
SEGMENT_COLUMNS = {
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
    if ax.get_legend_handles_labels()[0]:
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
    plots = [
        (
            title,
            png_base64(realised_plot(monthly, figure_name, promised_name, title, limits)),
            caption,
        )
        for figure_name, promised_name, title, limits, caption in (
            FIGURE_PLOTS if len(monthly) else ()
        )
    ]
    return _TEMPLATES.get_template("realised_performance.html.j2").render(
        measured_at=realised["measured_at"].max() if len(realised) else "never",
        champion=f"{champion['name']} version {champion['version']}" if champion else None,
        overall=_renamed_table(rows.loc[rows["period"] == "all"], REALISED_COLUMNS),
        monthly=_renamed_table(monthly, REALISED_COLUMNS),
        plots=plots,
        segments=_renamed_table(segments, SEGMENT_COLUMNS) if len(segments) else None,
    )
