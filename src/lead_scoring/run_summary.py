"""The few lines a person reads when a run ends: what was read, what came out, and where.

``RunSummaryHook`` keeps each summary a node saves that ``SECTIONS`` has sentences for, and after
a successful run prints them in that order, with the model registered, the MLflow run and files.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.hooks import hook_impl

from lead_scoring.contract import CHALLENGER, COLD, CREATED_DATE, HOT, TIERS
from lead_scoring.hooks import ModelRegistryHook, catalog_path, challenger_report_path
from lead_scoring.lazy_mlflow import active_run

# The files a person opens after a run, by catalog entry, when the run wrote them.
FILES = {
    "model_report": "Model report",
    "raw_data_profile_html": "Data profile",
    "quarantined_leads": "Quarantined rows",
    "call_list": "Call list (best first)",
    "scored_leads": "Scored leads (input order)",
    "scoring_quarantine": "Quarantined rows",
    "drift_report": "Drift report",
    "generated_raw_leads": "Export",
    "daily_landing_exports": "Daily exports and outcomes",
    "call_list_new": "Call list (best first)",
    "new_scores_drift": "Drift report",
    "promotion_decision": "Decision",
    "realised_performance_page": "Realised performance",
    "segments": "Segments of the champion",
}


def _model(model: dict) -> str:
    aliases = model.get("aliases")
    alias = f", alias {', '.join(aliases)}" if aliases else ""
    return f"Model: {model['name']} version {model['version']}{alias}"


def _model_used(facts: dict) -> list[str]:
    return [_model(facts["scoring_model_version"])]


def _model_registered(facts: dict) -> list[str]:
    model = facts["model"]
    # The version this run registered carries the one alias the registry hook gave it, and why.
    return [_model(model), f"Why {model['aliases'][0]}: {model['why']}"]


def _data(facts: dict) -> list[str]:
    data = facts["validation_summary"]
    trained = facts.get("registered_model_summary") or {}
    span = (
        f" ({trained['oldest_lead'][:10]} to {trained['newest_lead'][:10]})"
        if trained.get("oldest_lead")
        else ""
    )
    return [
        f"Leads read {data['rows_read']:,}, quarantined {data['rows_quarantined']:,}, "
        f"duplicates removed {data['duplicates_removed']:,}, kept {data['rows_kept']:,}{span}"
    ]


def _holdout(facts: dict) -> list[str]:
    metrics = facts["holdout_metrics"]
    return [
        f"Holdout of {metrics['leads']:,.0f} leads: ROC AUC {metrics['roc_auc']:.3f} "
        f"(baseline {metrics['baseline_roc_auc']:.3f}), "
        f"PR AUC {metrics['pr_auc']:.3f}, Brier {metrics['brier']:.3f}",
        "Tiers on the holdout: "
        + ", ".join(f"{t} {metrics[f'share_{t}']:.0%}" for t in TIERS)
        + f"; {COLD} holds {metrics['cold_completers_lost']:.1%} of completers",
    ]


def _label_changes(facts: dict) -> list[str]:
    changes = facts["label_change_report"]
    detail = (
        f" (0 to 1: {changes['to_completed']:,}, 1 to 0: {changes['to_not_completed']:,})"
        if changes["labels_changed"]
        else ""
    )
    return [f"Labels changed since the last report {changes['labels_changed']:,}{detail}"]


def _batch(facts: dict) -> list[str]:
    tally = facts["batch_tally"]
    return [
        f"Leads read {tally['read']:,}, scored {tally['scored']:,}, "
        f"quarantined {tally['quarantined']:,}"
    ]


def _tiers(facts: dict) -> list[str]:
    tiers: Counter = facts["tiers"]
    total = sum(tiers.values()) or 1
    return ["Tiers: " + ", ".join(f"{t} {tiers[t]:,} ({tiers[t] / total:.0%})" for t in TIERS)]


def _drift_alerts(facts: dict) -> list[str]:
    alerts = facts["drift_alerts"]
    named = f" ({', '.join(alerts)})" if alerts else ""
    return [f"Drift: {len(alerts)} feature(s) drifting{named}"]


def _generated(facts: dict) -> list[str]:
    export = facts["generated_raw_leads"]
    span = f", created {export['first']} to {export['last']}" if export["first"] else ""
    return [f"Wrote a synthetic export of {export['rows']:,} leads{span}"]


def _daily(facts: dict) -> list[str]:
    daily = facts["daily_landing_exports"]
    outcomes = facts["daily_outcome_exports"]  # saved by the same node
    return [
        f"Wrote {daily['files']} daily export(s) of {daily['rows']:,} leads in all, "
        f"{daily['first']} to {daily['last']}, and {outcomes['files']} outcome export(s) of "
        f"{outcomes['rows']:,} outcomes, each of leads created days before"
    ]


def _ingest(facts: dict) -> list[str]:
    totals = facts["ingest_summary"]
    store = f"The store holds {totals['leads_stored']:,} leads"
    if not totals.get("files"):
        return [f"No new landing file; {store[0].lower()}{store[1:]}"]
    return [
        f"Landing files ingested {totals['files']}: rows read {totals['rows_read']:,}, "
        f"new leads {totals['leads_new']:,}, updated {totals['leads_updated']:,}, "
        f"unchanged {totals['leads_unchanged']:,}, quarantined {totals['quarantined']:,}, "
        f"labels filled {totals['labels_filled']:,}",
        f"Files read again (changed) {totals['files_reread']}, deferred "
        f"{totals['files_deferred']}, refused {totals['files_refused']}; labels changed "
        f"{totals['labels_changed']:,}, outcomes pending {totals['outcomes_pending']:,}, "
        f"pending outcomes applied {totals['pending_applied']:,}",
        store,
    ]


def _score_run(facts: dict) -> list[str]:
    run = facts["score_run"]
    if not run.get("leads_selected"):
        return ["Nothing new to score: every stored lead has this model's score"]
    return [
        f"Stored leads scored {run['leads_scored']:,}, quarantined "
        f"{run['leads_quarantined']:,} ({run['rescored']:,} rescored for a new champion)",
        "Tiers: " + ", ".join(f"{t} {run.get(f'{t}_share', 0):.0%}" for t in TIERS),
    ]


def _shadow(facts: dict) -> list[str]:
    shadow = facts["challenger_score_run"]
    if not shadow:
        return []
    return [
        f"Challenger version {shadow['model_version']} scored {shadow['leads_scored']:,} "
        "lead(s) in shadow (stored with role challenger; not in the call list)"
    ]


def _new_scores_drift(facts: dict) -> list[str]:
    if not (facts.get("score_run") or {}).get("leads_selected"):
        return []
    # A drift past score_new's alert levels stops the run before this summary, so a summary
    # only says whether the batch was judged at all (small batches are not).
    features = facts["new_scores_drift"].get("features", {}).values()
    judged = any(f.get("status") in ("stable", "watch", "drift") for f in features)
    return [
        "Drift: no feature past the alert levels" if judged else "Drift: not judged, too few leads"
    ]


def _realised(facts: dict) -> list[str]:
    rows = facts["realised_performance_table"]
    overall = rows.loc[rows["period"] == "all"]
    if overall.empty:
        return ["No stored lead with a known outcome has a score yet: nothing measured"]
    versions = overall[["model_name", "model_version"]].drop_duplicates()
    months = rows.loc[rows["period"] != "all", "period"].nunique()
    lines = [
        f"Stored {len(rows):,} row(s) in realised_performance: {len(versions):,} model "
        f"version(s) over {months:,} month(s) of leads with known outcomes"
    ]
    for row in overall.itertuples(index=False):
        who = f"{row.model_name} version {row.model_version} ({row.role})"
        if pd.isna(row.roc_auc):
            lines.append(f"{who}: {row.labelled_leads:,} leads, {row.note}")
            continue
        hot = "n/a" if pd.isna(row.hot_precision) else f"{row.hot_precision:.1%}"
        lines.append(
            f"{who}: ROC AUC {row.roc_auc:.3f}, {HOT} precision {hot} on "
            f"{row.labelled_leads:,} leads ({row.completers:,} completers)"
        )
    return lines


def _promotion(facts: dict) -> list[str]:
    record = facts["promotion_record"]
    return [f"Promote: {record['outcome'].replace('_', ' ')}: {record['reason']}"]


# Each fact a run can save, with its sentences, in the order the block prints them. A fact is a
# node's summary, kept as saved, or one of the few counted from data below.
SECTIONS: dict[str, Callable[[dict], list[str]]] = {
    "generated_raw_leads": _generated,
    "daily_landing_exports": _daily,
    "ingest_summary": _ingest,
    "validation_summary": _data,
    "holdout_metrics": _holdout,
    "label_change_report": _label_changes,
    "batch_tally": _batch,
    "tiers": _tiers,
    "score_run": _score_run,
    "scoring_model_version": _model_used,
    "model": _model_registered,
    "challenger_score_run": _shadow,
    "drift_alerts": _drift_alerts,
    "new_scores_drift": _new_scores_drift,
    "realised_performance_table": _realised,
    "promotion_record": _promotion,
}
# Kept as saved: read along by the sections above.
_READ_ALONG = {"registered_model_summary", "daily_outcome_exports"}


def _counted_from_data(name: str, data: Any, facts: dict) -> bool:
    """Count the facts no node summarises: a batch's tiers, and what the generators wrote."""
    if name == "scored_leads" and "tier" in getattr(data, "columns", ()):
        facts.setdefault("tiers", Counter()).update(data["tier"].value_counts().to_dict())
    elif name in ("daily_landing_exports", "daily_outcome_exports") and isinstance(data, dict):
        days = sorted(data)
        facts[name] = {
            "files": len(days),
            "rows": sum(len(frame) for frame in data.values()),
            "first": days[0][:10] if days else "-",
            "last": days[-1][:10] if days else "-",
        }
    elif name == "generated_raw_leads" and CREATED_DATE in getattr(data, "columns", ()):
        dates = data[CREATED_DATE].dropna().astype(str)
        facts[name] = {
            "rows": len(data),
            "first": dates.min()[:10] if len(dates) else None,
            "last": dates.max()[:10] if len(dates) else None,
        }
    else:
        return False
    return True


def format_summary(pipeline_name: str, facts: dict, files: dict[str, str], run: dict | None) -> str:
    """The block printed at the end of a run."""
    lines = [
        line for fact, say in SECTIONS.items() if facts.get(fact) is not None for line in say(facts)
    ]
    if run:
        lines.append(f"MLflow run '{run['name']}' ({run['id']}) in {run['uri']}")
    lines += [f"{label}: {path}" for label, path in files.items()]
    width = min(max([len(line) for line in lines] + [40]), 100)
    title = f" {pipeline_name} run summary "
    return "\n".join([f"{title:=^{width}}", *lines, "=" * width])


class RunSummaryHook:
    """Ends every successful pipeline run with a short printed summary."""

    def __init__(self, registry: ModelRegistryHook | None = None) -> None:
        self._facts: dict[str, Any] = {}
        self._run_id: str | None = None
        self._registry = registry

    # After kedro-mlflow's, which starts the run.
    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._facts = {}
        run = active_run()
        self._run_id = run.info.run_id if run else None

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        counted = _counted_from_data(dataset_name, data, self._facts)
        if not counted and (dataset_name in _READ_ALONG or dataset_name in SECTIONS):
            self._facts[dataset_name] = data

    # Runs after the registry hook has given the new version its alias (see settings.HOOKS).
    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        # None without an MLflow run: the registry hook aliases nothing then.
        model = self._facts["model"] = self._registry.model if self._registry else None
        outputs = pipeline.all_outputs()
        files = {
            FILES[name]: path
            for name in FILES
            if name in outputs and (path := catalog_path(catalog, name))
        }
        if "Model report" in files and model and CHALLENGER in model["aliases"]:
            champions = files.pop("Model report")
            files["Model report (champion)"] = champions
            files["Model report (this run's challenger)"] = challenger_report_path(
                Path(champions)
            ).as_posix()
        record = self._facts.get("promotion_record") or {}
        if record.get("outcome") == "promoted" and (
            promoted := catalog_path(catalog, "model_report")
        ):
            files["Model report (the new champion)"] = promoted
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        described = None
        if self._run_id:
            import mlflow  # a run of MLflow's: imported already

            info = mlflow.get_run(self._run_id).info
            described = {"name": info.run_name, "id": info.run_id, "uri": mlflow.get_tracking_uri()}
        pipeline_name = "+".join(str(name) for name in names if name) or "__default__"
        sys.stdout.write(format_summary(pipeline_name, self._facts, files, described) + "\n")
        sys.stdout.flush()
