"""Self-contained HTML pages: the model report and the raw-data profile.

Images are embedded as base64 PNG and the pages carry no script and no external link to a
stylesheet or font, so they open offline, attached to an email or from the MLflow UI.
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from matplotlib.figure import Figure

from lead_scoring.pipelines.reporting.nodes import TIERS, business_sentences

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
        "Confusion matrix at the cold-tier cut",
        "What skipping the cold tier does: completers and non-completers that are still called "
        "(hot or warm) or skipped (cold).",
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


CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem 2rem 4rem; color: #1d2733;
       line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.4rem; border-bottom: 1px solid #d5dbe3;
     padding-bottom: 0.3rem; }
.muted { color: #5c6b7a; font-size: 0.92rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1.2rem 0; }
.card { border: 1px solid #d5dbe3; border-radius: 6px; padding: 0.7rem 1rem; min-width: 9.5rem; }
.card .value { font-size: 1.6rem; font-weight: 600; }
.card .label { font-size: 0.85rem; color: #5c6b7a; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #e3e8ee; padding: 0.3rem 0.7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f6f9; }
td.text { text-align: left; }
td.bar { width: 14rem; } td.bar span { display: block; height: 0.8rem; background: #1f5fa8; }
figure { margin: 1.2rem 0 2rem; } figure img { max-width: 100%; border: 1px solid #e3e8ee; }
figcaption { color: #5c6b7a; font-size: 0.92rem; max-width: 50rem; }
code { background: #f3f6f9; padding: 0.05rem 0.3rem; border-radius: 3px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.3rem 1.2rem; }
dt { color: #5c6b7a; } dd { margin: 0; font-family: monospace; word-break: break-all; }
"""


def _escape(value) -> str:
    return html.escape(str(value))


def _page(title: str, body: str) -> str:
    """A complete HTML document with the shared style."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def image_tag(png: bytes, alt: str) -> str:
    """An <img> with the PNG embedded as a base64 data URI."""
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_escape(alt)}" src="data:image/png;base64,{encoded}">'


def _format(value, pattern: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    return pattern.format(value)


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """An HTML table of ``frame``; columns in ``formats`` are formatted, others left as text."""
    formats = formats or {}
    head = "".join(f"<th>{_escape(column)}</th>" for column in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if column in formats:
                cells.append(f"<td>{_escape(_format(value, formats[column]))}</td>")
            else:
                cells.append(f'<td class="text">{_escape(value)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _renamed_table(frame: pd.DataFrame, columns: dict[str, tuple[str, str | None]]) -> str:
    """``table`` of the listed columns under readable headers."""
    shown = frame[list(columns)].rename(columns={k: header for k, (header, _) in columns.items()})
    return table(shown, {header: fmt for header, fmt in columns.values() if fmt is not None})


def _cards(items: list[tuple[str, str]]) -> str:
    cards = "".join(
        f'<div class="card"><div class="value">{_escape(value)}</div>'
        f'<div class="label">{_escape(label)}</div></div>'
        for value, label in items
    )
    return f'<div class="cards">{cards}</div>'


def _definitions(items: list[tuple[str, object]]) -> str:
    rows = "".join(
        f"<dt>{_escape(term)}</dt><dd>{_escape('n/a' if value is None else value)}</dd>"
        for term, value in items
    )
    return f"<dl>{rows}</dl>"


def _metrics_table(metrics: dict) -> str:
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
    return table(frame, {"CatBoost": "{}", "logistic baseline": "{}"})


def _tiers_table(summary: dict) -> str:
    ranges = {
        "hot": f"{summary['hot_from']:.3f} and above",
        "warm": f"{summary['cold_below']:.3f} to {summary['hot_from']:.3f}",
        "cold": f"below {summary['cold_below']:.3f}",
    }
    frame = pd.DataFrame(
        [
            {
                "tier": name,
                "probability": ranges[name],
                "leads": summary["tiers"][name]["leads"],
                "share of leads": summary["tiers"][name]["share"],
                "completion rate": summary["tiers"][name]["completion_rate"],
                "share of completers": summary["tiers"][name]["share_of_completers"],
            }
            for name in TIERS
        ]
    )
    return table(
        frame,
        {
            "leads": "{:,}",
            "share of leads": "{:.1%}",
            "completion rate": "{:.1%}",
            "share of completers": "{:.1%}",
        },
    )


def _validation_section(validation_summary: dict, quarantined_leads: pd.DataFrame) -> str:
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
    body = table(summary, {"leads": "{:,}"})
    body += (
        f'<p class="muted">Quarantined share: {validation_summary["quarantine_share"]:.2%}. '
        "Quarantined rows and every reason are in "
        "<code>data/02_intermediate/quarantined_leads.csv</code>.</p>"
    )
    if len(quarantined_leads):
        reasons = (
            (quarantined_leads["column"].astype("str") + ": " + quarantined_leads["rule"])
            .value_counts()
            .head(5)
            .rename_axis("most frequent first failure")
            .reset_index(name="leads")
        )
        body += table(reasons, {"leads": "{:,}"})
    return body


# Backtest table columns shown in the report: header and format.
BACKTEST_COLUMNS = {
    "period": ("period", None),
    "month": ("month", None),
    "leads": ("leads", "{:,}"),
    "completion_rate": ("completion rate", "{:.1%}"),
    "mean_probability": ("mean probability", "{:.1%}"),
    "roc_auc": ("ROC AUC", "{:.4f}"),
    "pr_auc": ("PR AUC", "{:.4f}"),
    "hot_precision": ("hot precision", "{:.1%}"),
    "cold_completers_lost": ("completers lost in cold", "{:.1%}"),
}


def _out_of_time_section(
    holdout_metrics: dict, backtest_table: pd.DataFrame, registered_model: dict
) -> str:
    """The tier promises realised on the holdout, the monthly backtest, and what was registered."""
    promises = pd.DataFrame(
        [
            {
                "promise": "hot precision",
                "target": f">= {holdout_metrics['hot_precision_target']:.0%}",
                "realised on the holdout": f"{holdout_metrics['hot_precision']:.1%}",
            },
            {
                "promise": "completers lost in cold",
                "target": f"<= {holdout_metrics['cold_completers_lost_target']:.0%}",
                "realised on the holdout": f"{holdout_metrics['cold_completers_lost']:.1%}",
            },
        ]
    )
    months = backtest_table.assign(period=backtest_table["period"].astype(str))
    return f"""
<h2>Out of time: the tier promises and the monthly backtest</h2>
<p class="muted">The tier cuts were fitted on a rolling-origin backtest: each of the last
months before the holdout was predicted by a model fitted on the months before it only, so the
cuts carry the drift a new month brings. The holdout, later still, shows whether the promises
hold.</p>
{table(promises)}
<p class="muted">Per month: backtest months (predicted by a model fitted on earlier months) then
holdout months (predicted by the measured model). Stable figures matter more than one number.</p>
{_renamed_table(months, BACKTEST_COLUMNS)}
<h2>The registered model</h2>
<p>The holdout figures above measure a model fitted on the leads before the holdout. The model
registered for scoring was then refit, vocabulary included, on every labelled lead:
it saw <strong>{registered_model["leads"]:,} leads up to {_escape(registered_model["newest_lead"])}
</strong> ({registered_model["trees"]:,} trees, the early-stopped
{registered_model["measured_trees"]:,} scaled to the data size; recency half-life
{_escape(registered_model["recency_half_life_days"])} days).</p>
"""


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
    **plots: bytes,
) -> str:
    """One self-contained HTML page: metrics, plots, deciles, business view, data, MLflow run."""
    summary = business_summary
    headline = _cards(
        [
            (f"{holdout_metrics['roc_auc']:.3f}", "ROC AUC on the holdout"),
            (f"{holdout_metrics['baseline_roc_auc']:.3f}", "ROC AUC of the logistic baseline"),
            (f"{holdout_metrics['pr_auc']:.3f}", "PR AUC"),
            (f"{holdout_metrics['brier']:.4f}", "Brier score"),
            (f"{summary['tiers']['hot']['completion_rate']:.1%}", "of hot leads complete"),
            (f"{summary['cold_completers_lost_share']:.1%}", "of completers fall in cold"),
            (f"{summary['calls_saved_per_1000_leads']:.0f}", "calls saved per 1,000 leads"),
        ]
    )
    sentences = "".join(f"<li>{_escape(line)}</li>" for line in business_sentences(summary))
    figures = "".join(
        f"<figure><h3>{_escape(title)}</h3>{image_tag(plots[key], title)}"
        f"<figcaption>{_escape(caption)}</figcaption></figure>"
        for key, title, caption in PLOTS
        if key in plots
    )
    run = mlflow_run_info
    model_name = _escape(run["registered_model"])
    mlflow_details = _definitions(
        [
            ("tracking URI", run["tracking_uri"]),
            ("experiment", f"{run['experiment_name']} (id {run['experiment_id']})"),
            ("run id", run["run_id"]),
            ("run name", run["run_name"]),
            ("artifacts", run["artifact_uri"]),
            ("registered model", run["registered_model"]),
        ]
    )
    period = f"{summary['period_start']} to {summary['period_end']}"
    body = f"""
<h1>Lead scoring model report</h1>
<p class="muted">Created {_escape(run["report_created"])} &middot; MLflow run
<code>{_escape(run["run_id"] or "not tracked")}</code> &middot; holdout of
{summary["leads"]:,} leads from {_escape(period)}, all later than the leads the model was
fitted on.</p>
{headline}
<h2>What it means for the sales team</h2>
<ul>{sentences}</ul>
{_tiers_table(summary)}
<h2>Model quality on the holdout</h2>
<p class="muted">Thresholded metrics call a lead a completer at probability
{operating_threshold:g} or more; ranking and probability metrics use no threshold.</p>
{_metrics_table(holdout_metrics)}
{_out_of_time_section(holdout_metrics, backtest_table, registered_model)}
<h2>Plots</h2>
{figures}
<h2>Deciles</h2>
<p class="muted">Holdout leads sorted by score into ten equal groups, decile 1 the highest.
Lift is the decile's completion rate over the overall rate of
{summary["completion_rate"]:.1%}.</p>
{_renamed_table(decile_table, DECILE_COLUMNS)}
<h2>Training data</h2>
{_validation_section(validation_summary, quarantined_leads)}
<p>Column types, missing shares and distributions of the raw export:
<a href="raw_data_profile.html">raw_data_profile.html</a>.</p>
<h2>MLflow</h2>
{mlflow_details}
<p class="muted">A train run registers a new version of <code>{model_name}</code> when it ends.
The run scores the current champion on this run's holdout; a hook then aliases the new
version <code>champion</code> if it beats the champion there by the margin set in
<code>training.promotion</code>, <code>challenger</code> otherwise: find the version by this run
id in <code>mlflow ui</code>.</p>
"""
    return _page("Lead scoring model report", body)


def _distribution_table(rows: list[dict]) -> str:
    with_rates = any(row["completion_rate"] is not None for row in rows)
    head = "<th>value</th><th>leads</th><th>share</th><th></th>" + (
        "<th>completion rate</th>" if with_rates else ""
    )
    body = "".join(
        f'<tr><td class="text">{_escape(row["value"])}</td><td>{row["leads"]:,}</td>'
        f"<td>{row['share']:.1%}</td>"
        f'<td class="bar"><span style="width:{100 * row["share"]:.1f}%"></span></td>'
        + (f"<td>{_escape(_format(row['completion_rate'], '{:.1%}'))}</td>" if with_rates else "")
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def distribution_chart(title: str, rows: list[dict]) -> bytes:
    """A PNG of a distribution: each value's share of leads, and its completion rate if known."""
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


def render_data_profile(raw_data_profile: dict) -> str:
    """The raw-data profile as a self-contained HTML page."""
    profile = raw_data_profile
    notes = ""
    if profile["missing_columns"]:
        notes += f"<p>Missing columns: {_escape(', '.join(profile['missing_columns']))}.</p>"
    if profile["extra_columns"]:
        notes += (
            f"<p>Columns the pipeline ignores: {_escape(', '.join(profile['extra_columns']))}.</p>"
        )
    distributions = "".join(
        f"<h3>{_escape(title)}</h3>"
        f"<figure>{image_tag(distribution_chart(title, rows), title)}</figure>"
        f"{_distribution_table(rows)}"
        for title, rows in profile["distributions"].items()
        if rows
    )
    body = f"""
<h1>Raw training data profile</h1>
<p class="muted">{profile["rows"]:,} rows of the export as read, before validation. Every cell
arrives as text; the type shown is what at least 99% of a column's filled cells parse as.</p>
{notes}
<h2>Columns</h2>
{_renamed_table(pd.DataFrame(profile["columns"]), PROFILE_COLUMNS)}
<h2>Distributions of the key columns</h2>
<p class="muted">Completion rate is the share of the group's leads with
<code>app_complete_flag</code> = 1.</p>
{distributions}
"""
    return _page("Raw training data profile", body)
