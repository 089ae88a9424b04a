"""Reporting: holdout tables, the business view, plots, the run's identifiers and a raw-data profile."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lead_scoring.contract import (
    CITY,
    COLD,
    CREATED_DATE,
    LABEL,
    LEADS_DROPPED,
    LEVEL_PATTERN,
    MEDIUM,
    ORIGIN_COLUMNS,
    PLATFORM,
    REFERRED,
    REGISTERED_MODEL_NAME,
    SOURCE,
    TIERS,
    TIMESTAMP_FORMAT,
    city_tier,
)
from lead_scoring.heavy_types import CatBoostClassifier, Figure
from lead_scoring.pipelines.lead_model import explain_predictions, score_cuts
from lead_scoring.pipelines.validation import parse_numbers, parse_timestamps
from lead_scoring.tracking import as_mlflow_metrics

MODEL_COLOUR = "#1f5fa8"
BASELINE_COLOUR = "#9a9a9a"
COMPLETER_COLOUR = "#2e8b57"
NON_COMPLETER_COLOUR = "#c0504d"
# A column is of a kind when nearly all its filled cells parse as that kind; a stray bad cell
# (quarantined later by validation) must not turn a count column into "text".
KIND_SHARE = 0.99


# --- holdout tables -------------------------------------------------------------------------


def build_decile_table(holdout_predictions: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Leads, completers, completion rate, lift and cumulative completer share per score decile."""
    n_bins = params["n_deciles"]
    probability = holdout_predictions["probability"].to_numpy()
    label = holdout_predictions[LABEL].to_numpy()
    # Deciles by rank, not by value: tied probabilities still split into equal-sized groups.
    # Decile 1 holds the highest scores, the leads a rep calls first.
    order = np.argsort(-probability, kind="stable")
    decile = np.empty(len(order), dtype="int64")
    decile[order] = np.arange(len(order)) * n_bins // max(len(order), 1) + 1
    grouped = pd.DataFrame({"decile": decile, "label": label, "probability": probability}).groupby(
        "decile"
    )
    table = grouped.agg(
        leads=("label", "size"),
        completers=("label", "sum"),
        min_probability=("probability", "min"),
        max_probability=("probability", "max"),
    ).reset_index()
    total_completers = table["completers"].sum()
    overall_rate = total_completers / table["leads"].sum()
    table["completion_rate"] = table["completers"] / table["leads"]
    table["lift"] = table["completion_rate"] / overall_rate
    table["cumulative_leads_share"] = table["leads"].cumsum() / table["leads"].sum()
    table["cumulative_completers_share"] = table["completers"].cumsum() / total_completers
    table["cumulative_lift"] = (
        table["cumulative_completers_share"] / table["cumulative_leads_share"]
    )
    return table.astype({"leads": "int64", "completers": "int64"})


def compute_shap_importance(
    model: CatBoostClassifier, model_input_holdout: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """Mean absolute SHAP value of each feature on a sample of holdout leads."""
    # Exact SHAP on every holdout lead costs seconds and does not change the ranking.
    size = min(params["shap_sample_size"], len(model_input_holdout))
    sample = model_input_holdout.sample(n=size, random_state=params["random_seed"])
    shap = explain_predictions(model, sample).drop(columns="expected")
    importance = shap.abs().mean().sort_values(ascending=False)
    table = importance.rename_axis("feature").reset_index(name="mean_abs_shap")
    return table.assign(share=importance.to_numpy() / importance.sum(), sample_size=size)


def summarise_business_impact(
    holdout_predictions: pd.DataFrame, tier_cuts: dict
) -> tuple[dict, dict]:
    """What each tier holds on the holdout and what skipping the cold tier saves and costs."""
    label = holdout_predictions[LABEL].to_numpy()
    tier = holdout_predictions["tier"].to_numpy()
    leads, completers = len(label), int(label.sum())
    tiers = {}
    for name in TIERS:
        members = tier == name
        tiers[name] = {
            "leads": int(members.sum()),
            "share": float(members.mean()) if leads else 0.0,
            "completers": int(label[members].sum()),
            "completion_rate": float(label[members].mean()) if members.any() else 0.0,
            "share_of_completers": float(label[members].sum() / completers) if completers else 0.0,
        }
    cold = tiers[COLD]
    called, kept = leads - cold["leads"], completers - cold["completers"]
    skipping_cold = {
        "cold_completers_lost_share": cold["share_of_completers"],
        "calls_saved_per_1000_leads": 1000 * cold["leads"] / leads if leads else 0.0,
        "completers_lost_per_1000_leads": 1000 * cold["completers"] / leads if leads else 0.0,
        "calls_per_completer_all": leads / completers if completers else float("nan"),
        "calls_per_completer_skip_cold": called / kept if kept else float("nan"),
    }
    dates = pd.to_datetime(holdout_predictions[CREATED_DATE])
    summary = {
        "leads": leads,
        "completers": completers,
        "completion_rate": completers / leads if leads else 0.0,
        "period_start": str(dates.min().date()) if leads else None,
        "period_end": str(dates.max().date()) if leads else None,
        **dict(zip(("cold_below_score", "hot_from_score"), score_cuts(tier_cuts), strict=True)),
        "tiers": tiers,
        **skipping_cold,
    }
    rates = {f"{name}_completion_rate": tiers[name]["completion_rate"] for name in TIERS}
    return summary, as_mlflow_metrics({**skipping_cold, **rates})


def tier_score_ranges(summary: dict) -> dict[str, str]:
    """Each tier's scores as a rep reads them ("75 to 99"); "none" for a tier with no score."""
    cold_below, hot_from = summary["cold_below_score"], summary["hot_from_score"]
    bounds = ((hot_from, 99), (cold_below, hot_from - 1), (1, cold_below - 1))
    return {
        name: f"{low} to {high}" if low < high else str(low) if low == high else "none"
        for name, (low, high) in zip(TIERS, bounds, strict=True)
    }


def business_sentences(summary: dict) -> list[str]:
    """The business summary as plain sentences, the same in the text file and the HTML report."""
    tiers = summary["tiers"]
    hot, warm, cold = (tiers[name] for name in TIERS)
    hot_scores, warm_scores, cold_scores = tier_score_ranges(summary).values()
    return [
        f"Measured on the {summary['leads']:,} most recent leads ({summary['period_start']} to "
        f"{summary['period_end']}), which the model never saw in training: "
        f"{summary['completion_rate']:.1%} of them completed an application.",
        f"Hot tier (scores {hot_scores}): {hot['leads']:,} leads "
        f"({hot['share']:.1%}), of whom {hot['completion_rate']:.1%} completed. Call these first.",
        f"Warm tier (scores {warm_scores}): "
        f"{warm['leads']:,} leads ({warm['share']:.1%}), of whom "
        f"{warm['completion_rate']:.1%} completed.",
        f"Cold tier (scores {cold_scores}): {cold['leads']:,} leads "
        f"({cold['share']:.1%}), of whom only {cold['completion_rate']:.1%} completed.",
        f"Skipping the cold tier saves a rep {summary['calls_saved_per_1000_leads']:.0f} calls "
        f"per 1,000 leads and loses {summary['cold_completers_lost_share']:.1%} of the completers "
        f"({summary['completers_lost_per_1000_leads']:.0f} completed applications per 1,000 leads).",
        f"Calls per completed application: {summary['calls_per_completer_all']:.2f} when every "
        f"lead is called, {summary['calls_per_completer_skip_cold']:.2f} when cold leads are "
        "skipped.",
    ]


def describe_business_impact(business_summary: dict) -> str:
    """The business summary in plain words, as Markdown for the sales operations team."""
    bullets = "\n".join(f"- {line}" for line in business_sentences(business_summary))
    return f"# What this model means for the sales team\n\n{bullets}"


def describe_mlflow_run(holdout_metrics: dict) -> dict:
    """The MLflow tracking URI, experiment and run that this report belongs to, and its AUC."""
    import mlflow

    # Not pure on purpose: kedro-mlflow opens the run before the first node, and the report must
    # name it. The model version and its alias are only assigned after the last node, by the
    # registry hook, so the report can name the registered model but not its version.
    run = mlflow.active_run()
    experiment = mlflow.get_experiment(run.info.experiment_id) if run else None
    return {
        "report_created": pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"),
        "tracking_uri": mlflow.get_tracking_uri(),
        "registered_model": REGISTERED_MODEL_NAME,
        "experiment_id": run.info.experiment_id if run else None,
        "experiment_name": experiment.name if experiment else None,
        "run_id": run.info.run_id if run else None,
        "run_name": run.info.run_name if run else None,
        "artifact_uri": run.info.artifact_uri if run else None,
        # Taking the metrics also makes the report wait for a successful training.
        "holdout_roc_auc": holdout_metrics.get("roc_auc"),
    }


# --- plots ----------------------------------------------------------------------------------

# The two scores the holdout plots compare: column, name, prefix of its metrics, colour.
SCORES = (
    ("probability", "CatBoost", "", MODEL_COLOUR),
    ("baseline_probability", "logistic baseline", "baseline_", BASELINE_COLOUR),
)


def _figure(width: float = 6.4, height: float = 4.6, ncols: int = 1) -> tuple[Figure, list]:
    # A bare Figure, not pyplot: no global state, no display backend needed in a headless run.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(alpha=0.3)
    return figure, list(axes)


def _curves(
    display, holdout_predictions: pd.DataFrame, holdout_metrics: dict, metric: str, short: str
):
    """The model's and the baseline's curve of one scikit-learn display, named with their metric."""
    label = holdout_predictions[LABEL].to_numpy()
    figure, (ax,) = _figure(5.6, 5.0)
    for column, name, prefix, colour in SCORES:
        display.from_predictions(
            label,
            holdout_predictions[column].to_numpy(),
            ax=ax,
            curve_kwargs={"color": colour, "label": name},
        )
        ax.get_lines()[-1].set_label(f"{name} ({short} {holdout_metrics[prefix + metric]:.3f})")
    return figure, ax, label


def plot_roc_curves(holdout_predictions: pd.DataFrame, holdout_metrics: dict) -> Figure:
    """ROC curves of the model and the logistic baseline on the holdout."""
    from sklearn.metrics import RocCurveDisplay

    figure, ax, _ = _curves(RocCurveDisplay, holdout_predictions, holdout_metrics, "roc_auc", "AUC")
    ax.plot([0, 1], [0, 1], ls="--", color="black", lw=0.8, label="random order")
    ax.set(
        xlabel="non-completers called (false positive rate)",
        ylabel="completers reached (true positive rate)",
        title="ROC curve on the holdout",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="lower right")
    return figure


def plot_precision_recall_curves(
    holdout_predictions: pd.DataFrame, holdout_metrics: dict
) -> Figure:
    """Precision-recall curves of the model and the logistic baseline on the holdout."""
    from sklearn.metrics import PrecisionRecallDisplay

    figure, ax, label = _curves(
        PrecisionRecallDisplay, holdout_predictions, holdout_metrics, "pr_auc", "AP"
    )
    ax.axhline(label.mean(), ls="--", color="black", lw=0.8, label="completion rate")
    ax.set(
        xlabel="completers reached (recall)",
        ylabel="share of called leads who complete (precision)",
        title="Precision-recall curve on the holdout",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower left")
    return figure


def plot_calibration(
    holdout_predictions: pd.DataFrame, holdout_metrics: dict, params: dict
) -> Figure:
    """Predicted probability against the observed completion rate, with the Brier scores."""
    from sklearn.calibration import CalibrationDisplay

    figure, (ax,) = _figure(5.6, 5.0)
    for column, name, prefix, colour in SCORES:
        # Quantile bins hold equal numbers of leads, so no point rests on a handful of them.
        CalibrationDisplay.from_predictions(
            holdout_predictions[LABEL].to_numpy(),
            holdout_predictions[column].to_numpy(),
            n_bins=params["calibration_bins"],
            strategy="quantile",
            ax=ax,
            ref_line=False,
            name=f"{name} (Brier {holdout_metrics[prefix + 'brier']:.4f})",
            color=colour,
        )
    ax.plot([0, 1], [0, 1], ls="--", color="black", lw=0.8, label="perfectly calibrated")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed completion rate",
        title=f"Calibration on the holdout (Brier score {holdout_metrics['brier']:.4f})",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left")
    return figure


def plot_score_distributions(
    holdout_predictions: pd.DataFrame, tier_cuts: dict, params: dict
) -> Figure:
    """Distributions of the predicted probability for completers and non-completers."""
    label = holdout_predictions[LABEL].to_numpy()
    model = holdout_predictions["probability"].to_numpy()
    figure, (ax,) = _figure(7.2, 4.4)
    bins = np.linspace(0, 1, params["histogram_bins"] + 1)
    for outcome, name, colour in (
        (1, "completed", COMPLETER_COLOUR),
        (0, "did not complete", NON_COMPLETER_COLOUR),
    ):
        ax.hist(model[label == outcome], bins=bins, alpha=0.6, color=colour, label=name)
    cold_below, hot_from = score_cuts(tier_cuts)
    for score, name in ((cold_below, "cold below score"), (hot_from, "hot from score")):
        # A score is the probability rounded to a whole percent: its lowest probability is here.
        cut = (score - 0.5) / 100
        ax.axvline(cut, color="black", ls="--", lw=1)
        ax.annotate(
            f"{name} {score}",
            (cut, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
        )
    ax.set(
        xlabel="predicted probability of completing",
        ylabel="holdout leads",
        title="Scores of completers and non-completers",
        xlim=(0, 1),
    )
    # Below the axes: the histograms fill the plot area from edge to edge.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, frameon=False)
    return figure


def plot_gains_and_lift(decile_table: pd.DataFrame) -> Figure:
    """Cumulative gains curve and lift per score decile."""
    figure, (gains, lift) = _figure(10.0, 4.4, ncols=2)
    leads_share = np.r_[0, decile_table["cumulative_leads_share"].to_numpy()]
    completers_share = np.r_[0, decile_table["cumulative_completers_share"].to_numpy()]
    gains.plot(leads_share, completers_share, marker="o", color=MODEL_COLOUR, label="model")
    gains.plot([0, 1], [0, 1], ls="--", color="black", lw=0.8, label="random order")
    gains.set(
        xlabel="share of leads called, best scores first",
        ylabel="share of completers reached",
        title="Cumulative gains",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    gains.legend(loc="lower right")
    lift.bar(decile_table["decile"], decile_table["lift"], color=MODEL_COLOUR)
    lift.axhline(1, ls="--", color="black", lw=0.8)
    lift.set(
        xlabel="score decile (1 = highest scores)",
        ylabel="completion rate / overall rate",
        title="Lift by decile",
        xticks=decile_table["decile"],
    )
    return figure


def plot_feature_importance(shap_importance: pd.DataFrame) -> Figure:
    """Mean absolute SHAP value of each feature, largest on top."""
    ranked = shap_importance.iloc[::-1]
    figure, (ax,) = _figure(7.2, 0.32 * len(ranked) + 1.4)
    ax.barh(ranked["feature"], ranked["mean_abs_shap"], color=MODEL_COLOUR)
    sample = int(shap_importance["sample_size"].iloc[0]) if len(shap_importance) else 0
    ax.set(
        xlabel="mean |SHAP value| (log-odds)",
        title=f"Feature importance on {sample:,} holdout leads",
    )
    return figure


def cold_cut_confusion(holdout_predictions: pd.DataFrame, tier_cuts: dict) -> pd.DataFrame:
    """Counts of completers and non-completers that the cold cut calls or skips."""
    completed = holdout_predictions[LABEL].to_numpy() == 1
    skipped = holdout_predictions["tier"].to_numpy() == COLD
    return pd.DataFrame(
        [
            [int((completed & ~skipped).sum()), int((completed & skipped).sum())],
            [int((~completed & ~skipped).sum()), int((~completed & skipped).sum())],
        ],
        index=["completed", "did not complete"],
        columns=["called (hot or warm)", "skipped (cold)"],
    )


def plot_cold_cut_confusion(holdout_predictions: pd.DataFrame, tier_cuts: dict) -> Figure:
    """Confusion matrix of calling every lead that is not cold, against what happened."""
    from sklearn.metrics import ConfusionMatrixDisplay

    matrix = cold_cut_confusion(holdout_predictions, tier_cuts)
    counts = matrix.to_numpy()
    # Coloured by the share of each row, so the rarer outcome's split reads as clearly.
    row_shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure, (ax,) = _figure(5.6, 4.4)
    ax.grid(False)
    display = ConfusionMatrixDisplay(row_shares, display_labels=matrix.columns).plot(
        ax=ax, cmap="Blues", colorbar=False, im_kw={"vmin": 0, "vmax": 1}
    )
    for (row, column), count in np.ndenumerate(counts):
        display.text_[row, column].set_text(f"{count:,}\n{row_shares[row, column]:.1%} of row")
    ax.set(
        yticks=[0, 1],
        yticklabels=matrix.index,
        xlabel="",
        ylabel="",
        title=f"At the cold cut (score below {score_cuts(tier_cuts)[0]})",
    )
    return figure


# --- raw data profile -----------------------------------------------------------------------


def _blank_to_missing(cells: pd.Series) -> pd.Series:
    text = cells.astype("str") if not pd.api.types.is_string_dtype(cells) else cells
    return text.mask(text.str.strip() == "")


def _column_profile(name: str, cells: pd.Series, sample_size: int) -> dict:
    """Inferred type, missing share, distinct values and a short summary of one text column."""
    filled = cells.dropna()
    profile = {
        "column": name,
        "filled": len(filled),
        "missing_share": float(cells.isna().mean()) if len(cells) else 0.0,
    }
    if filled.empty:
        return {**profile, "distinct": 0, "kind": "empty", "summary": "every cell is empty"}
    # The type is read off a sample; parsing 240k cells three ways to reject two types is slow.
    sample = filled.sample(n=min(len(filled), sample_size), random_state=0)
    if parse_numbers(sample).notna().mean() >= KIND_SHARE:
        values = parse_numbers(filled).dropna()
        return {
            **profile,
            "distinct": int(values.nunique()),
            "kind": "whole number" if bool((values % 1 == 0).all()) else "number",
            "summary": (
                f"min {values.min():g}, median {values.median():g}, mean {values.mean():.3g}, "
                f"95th pct {values.quantile(0.95):g}, max {values.max():g}"
            ),
        }
    if parse_timestamps(sample).notna().mean() >= KIND_SHARE:
        dates = parse_timestamps(filled).dropna()
        return {
            **profile,
            "distinct": int(filled.nunique()),
            "kind": f"timestamp ({TIMESTAMP_FORMAT})",
            "summary": f"from {dates.min()} to {dates.max()}",
        }
    counts = filled.value_counts(normalize=True)
    return {
        **profile,
        "distinct": len(counts),
        "kind": "level (LevelN)"
        if sample.str.match(LEVEL_PATTERN).mean() >= KIND_SHARE
        else "text",
        "summary": "most frequent: "
        + ", ".join(f"{value} {share:.1%}" for value, share in counts.head(3).items()),
    }


def _distribution(groups: pd.Series, label: pd.Series | None, order: list | None = None) -> list:
    """Leads, share and completion rate of each group: those in ``order`` first, then by size."""
    counts = groups.value_counts(dropna=False)
    if order is not None:
        first = [g for g in order if g in counts.index]
        counts = pd.concat([counts.reindex(first), counts.drop(index=first)])
    rates = label.groupby(groups, dropna=False).mean() if label is not None else None
    total = len(groups)
    return [
        {
            "value": str(value),
            "leads": int(count),
            "share": count / total,
            "completion_rate": None if rates is None else float(rates.get(value, np.nan)),
        }
        for value, count in counts.items()
    ]


def _level_distribution(cells: pd.Series, label: pd.Series | None, top: int) -> list:
    """The ``top`` most frequent values, then all other values together, then the missing."""
    keep = list(cells.value_counts().head(top).index)
    other, missing = "all other values", "(missing)"
    groups = cells.where(cells.isin(keep), other).where(cells.notna(), missing)
    return _distribution(groups, label, [*keep, other, missing])


def profile_raw_leads(
    raw_leads: pd.DataFrame,
    interaction_mapping: pd.DataFrame,
    city_tiers: pd.DataFrame,
    index_column: str,
    default_city_tier: int,
    params: dict,
    validation_summary: dict | None = None,
) -> dict:
    """Column types, missing shares and distributions of the key columns of the raw export."""
    # The export's own row index is an id, not data.
    data = raw_leads.drop(columns=[index_column], errors="ignore").apply(_blank_to_missing)
    interactions = list(interaction_mapping["interaction_type"])
    known = [*ORIGIN_COLUMNS, *interactions, LABEL]
    present = [name for name in known if name in data]
    # The label is optional: a profile of an unlabelled export simply has no completion rates.
    missing = [name for name in known if name not in data and name != LABEL]
    # A missing column profiles as empty instead of failing: validation names it anyway.
    data = data.reindex(columns=[*data.columns, *missing]).astype({c: "str" for c in missing})
    label = parse_numbers(data[LABEL]) if LABEL in data else None
    top, cap = params["top_levels"], params["leads_dropped_cap"]

    valid_date = parse_timestamps(data[CREATED_DATE]).notna()
    created = data[CREATED_DATE].str.slice(0, 7).where(valid_date, "(not a timestamp)")
    tiers = pd.Series(
        city_tier(data[CITY].str.strip().str.lower(), city_tiers, default_city_tier),
        index=data.index,
    )
    dropped = np.floor(parse_numbers(data[LEADS_DROPPED]).clip(upper=cap))
    dropped_group = (
        dropped.astype("Int64").astype("str").replace({str(cap): f"{cap} or more"})
    ).where(dropped.notna(), "(missing)")
    referred = parse_numbers(data[REFERRED]).map({0: "no", 1: "yes"}).fillna("(missing or invalid)")
    clicks = data[interactions].notna().any(axis=1).map({True: "any click", False: "no click"})
    distributions = {
        "Leads by month created": _distribution(created, label, sorted(created.unique())),
        f"City tier (unlisted and missing cities are tier {default_city_tier})": _distribution(
            tiers.astype("int64"), label, [1, 2, 3]
        ),
        "City (most frequent)": _level_distribution(data[CITY], label, top),
        "Platform of first visit": _level_distribution(data[PLATFORM], label, top),
        "Traffic medium": _level_distribution(data[MEDIUM], label, top),
        "Traffic source": _level_distribution(data[SOURCE], label, top),
        "Courses checked (total_leads_droppped)": _distribution(
            dropped_group, label, [*(str(k) for k in range(cap)), f"{cap} or more", "(missing)"]
        ),
        "Referred lead": _distribution(referred, label, ["no", "yes"]),
        "Website interactions": _distribution(clicks, label, ["no click", "any click"]),
    }
    if label is not None:
        outcome = label.map({1: "completed", 0: "did not complete"}).fillna("(not 0 or 1)")
        distributions["Outcome (app_complete_flag)"] = _distribution(outcome, None)
    return {
        "rows": len(data),
        "columns": [
            _column_profile(name, data[name], params["type_sample_size"]) for name in present
        ],
        "missing_columns": missing,
        "extra_columns": [name for name in raw_leads.columns if name not in [*known, index_column]],
        "distributions": distributions,
        # Also what makes the profile wait for validation: a rejected export gets no profile.
        "validation": validation_summary,
    }
