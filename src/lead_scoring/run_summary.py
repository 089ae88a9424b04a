"""The few lines a person reads when a run ends: what was read, what came out, and where.

Kedro narrates every node and dataset; the figures that matter are scattered in that narration.
``RunSummaryHook`` keeps the small outputs it needs as they are saved, and after a successful
run prints one short block: leads read and
quarantined, metrics, tiers, the model version and alias, and the files to open. After a train
run it also stamps the model report with what the model was trained on and which registered
version and alias it is.
"""

from __future__ import annotations

import html
import logging
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from lead_scoring.contract import CHALLENGER, CHAMPION, CREATED_DATE, TIERS
from lead_scoring.lazy_mlflow import active_run, mlflow_client_on_use

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

# Where `make train` writes the synthetic export when there is none.
DEFAULT_EXPORT = "data/01_raw/leads.csv"
# What train_from_store trains on, instead of a file.
STORE_SOURCE = "lead store"
_KEPT = {
    "validation_summary",
    "holdout_metrics",
    "business_summary",
    "scoring_model_version",
    "batch_tally",
    "drift_alerts",
    "ingest_summary",
    "score_run",
    "new_scores_drift",
    "label_change_report",
    "realised_performance_table",
    "challenger_score_run",
    "promotion_record",
}
# The model version tag where the registry hook and promote say why a version got its alias.
ALIAS_REASON_TAG = "alias_reason"
# The files a person opens after each kind of run, by catalog entry, with what to call them.
_FILES = {
    "train": {
        "model_report": "Model report",
        "raw_data_profile_html": "Data profile",
        "quarantined_leads": "Quarantined rows",
    },
    "inference": {
        "call_list": "Call list (best first)",
        "scored_leads": "Scored leads (input order)",
        "scoring_quarantine": "Quarantined rows",
        "drift_report": "Drift report",
    },
    "generate": {"generated_raw_leads": "Export"},
    "generate_daily": {
        "daily_landing_exports": "Daily exports and outcomes",
    },
    "ingest": {},
    "score_new": {"call_list_new": "Call list (best first)", "new_scores_drift": "Drift report"},
    "promote": {"promotion_decision": "Decision"},
    "realised_performance": {
        "realised_performance_page": "Realised performance",
        "segments": "Segments of the champion",
    },
}


def _filepath(catalog, name: str) -> str | None:
    """The file a catalog entry writes, relative to the project when it lies inside it."""
    try:
        dataset = catalog.get(name)
    except Exception:
        return None
    while dataset is not None and hasattr(dataset, "_dataset"):
        dataset = dataset._dataset  # an MlflowArtifactDataset wraps the dataset that writes
    # A PartitionedDataset writes a folder, its `_path`.
    path = getattr(dataset, "_filepath", None) or getattr(dataset, "_path", None)
    if path is None:
        return None
    path = Path(str(path))
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def registered_versions(client: MlflowClient, model_name: str, run_id: str) -> list[str]:
    """Versions of ``model_name`` registered by ``run_id``."""
    from mlflow.exceptions import MlflowException  # on use: lazy_mlflow says why

    try:
        versions = client.search_model_versions(f"name='{model_name}' and run_id='{run_id}'")
    except MlflowException:
        return []
    return [str(v.version) for v in versions]


def _aliases(client: MlflowClient, model_name: str, version: str) -> list[str]:
    from mlflow.exceptions import MlflowException  # on use: lazy_mlflow says why

    try:
        return sorted(client.get_model_version(model_name, version).aliases or [])
    except MlflowException:
        return []


def _alias_reason(client: MlflowClient, model_name: str, version: str) -> str | None:
    from mlflow.exceptions import MlflowException  # on use: lazy_mlflow says why

    try:
        return client.get_model_version(model_name, version).tags.get(ALIAS_REASON_TAG)
    except MlflowException:
        return None


def _pipeline_name(run_params: dict[str, Any]) -> str:
    names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
    return "+".join(str(name) for name in names if name) or "__default__"


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def train_lines(facts: dict) -> list[str]:
    """The summary of a train run."""
    lines = []
    data = facts.get("validation_summary") or {}
    trained = facts.get("trained_on") or {}
    if data:
        lines.append(
            f"Leads read {data.get('rows_read', 0):,}, quarantined {data.get('rows_quarantined', 0):,}, "
            f"duplicates removed {data.get('duplicates_removed', 0):,}, kept {data.get('rows_kept', 0):,}"
            + (f" ({trained['first']} to {trained['last']})" if trained.get("first") else "")
        )
    metrics = facts.get("holdout_metrics") or {}
    if metrics:
        lines.append(
            f"Holdout of {int(metrics.get('leads', 0)):,} leads: ROC AUC {metrics['roc_auc']:.3f} "
            f"(baseline {metrics.get('baseline_roc_auc', float('nan')):.3f}), "
            f"PR AUC {metrics.get('pr_auc', float('nan')):.3f}, Brier {metrics.get('brier', float('nan')):.3f}"
        )
        lines.append(
            "Tiers on the holdout: "
            + ", ".join(f"{t} {metrics.get(f'share_{t}', 0):.0%}" for t in TIERS)
            + f"; cold holds {metrics.get('cold_completers_lost', 0):.1%} of completers"
        )
    changes = facts.get("label_change_report")
    if changes is not None:
        lines.append(
            f"Labels changed since the last report {changes['labels_changed']:,}"
            + (
                f" (0 to 1: {changes['to_completed']:,}, 1 to 0: {changes['to_not_completed']:,})"
                if changes["labels_changed"]
                else ""
            )
        )
    model = facts.get("model")
    if model:
        alias = f", alias {', '.join(model['aliases'])}" if model["aliases"] else ", no alias"
        lines.append(f"Model: {model['name']} version {model['version']}{alias}")
        if model.get("why"):
            role = next((a for a in model["aliases"] if a in (CHAMPION, CHALLENGER)), "no alias")
            lines.append(f"Why {role}: {model['why']}")
    return lines


def inference_lines(facts: dict) -> list[str]:
    """The summary of a scoring run."""
    lines = []
    tally = facts.get("batch_tally") or {}
    if tally:
        lines.append(
            f"Leads read {tally['read']:,}, scored {tally['scored']:,}, "
            f"quarantined {tally['quarantined']:,}"
        )
    tiers: Counter = facts.get("tiers") or Counter()
    if tiers:
        total = sum(tiers.values())
        lines.append(
            "Tiers: " + ", ".join(f"{t} {tiers[t]:,} ({_share(tiers[t], total)})" for t in TIERS)
        )
    version = facts.get("scoring_model_version") or {}
    if version:
        aliases = facts.get("model_aliases") or []
        alias = f", alias {', '.join(aliases)}" if aliases else ""
        lines.append(f"Model: {version['name']} version {version['version']}{alias}")
    alerts = facts.get("drift_alerts")
    if alerts is not None:
        lines.append(
            f"Drift: {len(alerts)} feature(s) drifting"
            + (f" ({', '.join(alerts)})" if alerts else "")
        )
    return lines


def generate_lines(facts: dict) -> list[str]:
    """The summary of a generate run."""
    export = facts["generated"]
    span = f", created {export['first']} to {export['last']}" if export["first"] else ""
    return [f"Wrote a synthetic export of {export['rows']:,} leads{span}"]


def daily_lines(facts: dict) -> list[str]:
    """The summary of a generate_daily run."""
    daily = facts["daily_exports"]
    outcomes = facts.get("daily_outcomes") or {"files": 0, "outcomes": 0}
    return [
        f"Wrote {daily['files']} daily export(s) of {daily['leads']:,} leads in all, "
        f"{daily['first']} to {daily['last']}, and {outcomes['files']} outcome export(s) of "
        f"{outcomes['outcomes']:,} outcomes, each of leads created days before"
    ]


def ingest_lines(facts: dict) -> list[str]:
    """The summary of an ingest run: the new landing files' counts and the store's size."""
    totals = facts["ingest_summary"]
    store = f"The store holds {totals['leads_stored']:,} leads"
    if not totals.get("files"):
        return [f"No new landing file; {store[0].lower()}{store[1:]}"]
    lines = [
        f"Landing files ingested {totals['files']}: rows read {totals['rows_read']:,}, "
        f"new leads {totals['leads_new']:,}, updated {totals['leads_updated']:,}, "
        f"unchanged {totals['leads_unchanged']:,}, quarantined {totals['quarantined']:,}, "
        f"labels filled {totals['labels_filled']:,}",
    ]
    if "files_reread" in totals:
        lines.append(
            f"Files read again (changed) {totals['files_reread']}, deferred "
            f"{totals['files_deferred']}, refused {totals['files_refused']}; labels changed "
            f"{totals['labels_changed']:,}, outcomes pending {totals['outcomes_pending']:,}, "
            f"pending outcomes applied {totals['pending_applied']:,}"
        )
    return [*lines, store]


def score_new_lines(facts: dict) -> list[str]:
    """The summary of a score_new run: the stored leads scored, tiers, model and drift."""
    run = facts["score_run"]
    if not run.get("leads_selected"):
        lines = ["Nothing new to score: every stored lead has this model's score"]
    else:
        lines = [
            f"Stored leads scored {run['leads_scored']:,}, quarantined "
            f"{run['leads_quarantined']:,} ({run['rescored']:,} rescored for a new champion)",
            "Tiers: " + ", ".join(f"{t} {run.get(f'{t}_share', 0):.0%}" for t in TIERS),
        ]
    version = facts.get("scoring_model_version") or {}
    if version:
        aliases = facts.get("model_aliases") or []
        alias = f", alias {', '.join(aliases)}" if aliases else ""
        lines.append(f"Model: {version['name']} version {version['version']}{alias}")
    shadow = facts.get("challenger_score_run") or {}
    if shadow:
        lines.append(
            f"Challenger version {shadow['model_version']} scored {shadow['leads_scored']:,} "
            "lead(s) in shadow (stored with role challenger; not in the call list)"
        )
    if run.get("leads_selected"):
        # A drift past score_new's alert levels stops the run before this summary, so a summary
        # only says whether the batch was judged at all (small batches are not).
        features = (facts.get("new_scores_drift") or {}).get("features", {}).values()
        judged = any(f.get("status") in ("stable", "watch", "drift") for f in features)
        lines.append(
            "Drift: no feature past the alert levels"
            if judged
            else "Drift: not judged, too few leads"
        )
    return lines


def realised_lines(facts: dict) -> list[str]:
    """The summary of a realised_performance run: each version's figures over all months."""
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
        if row.roc_auc is None or row.roc_auc != row.roc_auc:
            lines.append(f"{who}: {row.labelled_leads:,} leads, {row.note}")
            continue
        hot = "n/a" if row.hot_precision != row.hot_precision else f"{row.hot_precision:.1%}"
        lines.append(
            f"{who}: ROC AUC {row.roc_auc:.3f}, hot precision {hot} on "
            f"{row.labelled_leads:,} leads ({row.completers:,} completers)"
        )
    return lines


def promote_lines(facts: dict) -> list[str]:
    """The summary of a promote run: the decision in one line."""
    record = facts["promotion_record"]
    return [f"Promote: {record['outcome'].replace('_', ' ')}: {record['reason']}"]


# What a run did, from what it saved, with the function that sums it up; train when none match.
_KINDS = [
    ("realised_performance_table", "realised_performance"),
    ("batch_tally", "inference"),
    ("score_run", "score_new"),
    ("promotion_record", "promote"),
    ("ingest_summary", "ingest"),
    ("daily_exports", "generate_daily"),
    ("generated", "generate"),
]
_LINES = {
    "train": train_lines,
    "inference": inference_lines,
    "score_new": score_new_lines,
    "realised_performance": realised_lines,
    "promote": promote_lines,
    "ingest": ingest_lines,
    "generate_daily": daily_lines,
    "generate": generate_lines,
}


def run_kind(facts: dict) -> str:
    """What the run did, from what it saved: scored, stored, generated, or trained."""
    return next((kind for fact, kind in _KINDS if facts.get(fact) is not None), "train")


def format_summary(pipeline_name: str, facts: dict, files: dict[str, str], run: dict | None) -> str:
    """The block printed at the end of a run."""
    kind = run_kind(facts)
    lines = _LINES[kind](facts)
    if run:
        lines.append(f"MLflow run '{run['name']}' ({run['id']}) in {run['uri']}")
    lines += [f"{label}: {path}" for label, path in files.items()]
    width = max([len(line) for line in lines] + [40])
    title = f" {pipeline_name} run summary "
    return "\n".join([f"{title:=^{min(width, 100)}}", *lines, "=" * min(width, 100)])


def trained_on_html(trained: dict, model: dict | None) -> str:
    """The model report's opening paragraph: the training data and the registered version."""
    path = trained.get("path") or DEFAULT_EXPORT
    if path == STORE_SOURCE:
        where = (
            "the lead store's labelled leads (<code>kedro run --pipeline=train_from_store</code>)"
        )
    elif path == DEFAULT_EXPORT:
        where = (
            f"the default export <code>{html.escape(path)}</code> (synthetic, written by "
            "<code>kedro run --pipeline=generate</code>, unless you put your own export there)"
        )
    else:
        where = f"your export <code>{html.escape(path)}</code>"
    span = f", created {trained['first']} to {trained['last']}" if trained.get("first") else ""
    text = f"Trained on {where}: {trained.get('rows', 0):,} valid leads{html.escape(span)}."
    if model:
        aliases = ", ".join(f"<strong>{html.escape(a)}</strong>" for a in model["aliases"])
        text += (
            f" This report describes registered model <code>{html.escape(model['name'])}</code> "
            f"version <strong>{model['version']}</strong>, "
            + (f"alias {aliases}" if aliases else "without an alias")
            + " when the run ended"
            + (f": {html.escape(model['why'])}." if model.get("why") else ".")
        )
        if CHALLENGER in model["aliases"]:
            text += (
                " It is the <strong>challenger's</strong> report: the champion's, which scores "
                "the leads, is <code>model_report.html</code> beside it."
            )
    return f'<p class="trained-on">{text}</p>\n'


_STAMP = re.compile(r'<p class="trained-on">.*?</p>\n', flags=re.S)


def report_stamp(report: Path) -> str | None:
    """The model report's trained-on paragraph, if the report has one."""
    if not report.exists():
        return None
    found = _STAMP.search(report.read_text(encoding="utf-8"))
    return found.group(0) if found else None


def stamp_report(report: Path, paragraph: str) -> bool:
    """Put ``paragraph`` under the model report's title; False when there is no report."""
    if not report.exists():
        return False
    page = report.read_text(encoding="utf-8")
    page = _STAMP.sub("", page)
    title = re.search(r"<h1>.*?</h1>\n?", page) or re.search(r"<body>\n?", page)
    at = title.end() if title else 0
    report.write_text(page[:at] + paragraph + page[at:], encoding="utf-8")
    return True


def challenger_report_path(report: Path) -> Path:
    """Where a challenger's report sits: beside the champion's, named as such."""
    return report.with_name(f"{report.stem}_challenger{report.suffix}")


def fetch_champion_report(client: MlflowClient, model_name: str, report: Path, note: str) -> None:
    """Put the champion's report, the copy logged with its training run, at ``report``.

    Where it cannot be read, a short page says which version is champion, and ``note``.
    """
    from mlflow.exceptions import MlflowException  # on use: lazy_mlflow says why

    champion = None
    with tempfile.TemporaryDirectory(dir=report.parent) as download:
        try:
            champion = client.get_model_version_by_alias(model_name, CHAMPION)
            fetched = client.download_artifacts(
                str(champion.run_id), f"reporting/{report.name}", download
            )
            Path(fetched).replace(report)
            return
        except (MlflowException, OSError) as error:
            cause = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    named = f"version {champion.version}" if champion is not None else "the champion"
    report.write_text(
        "<html><body><h1>Lead scoring model report</h1>\n"
        f"<p>The champion ({html.escape(named)}) scores the leads, but its report could not be "
        f"read from MLflow ({html.escape(cause)}). {note}</p></body></html>\n",
        encoding="utf-8",
    )


def keep_champion_report(client: MlflowClient, model_name: str, report: Path) -> Path:
    """Move a challenger's report beside ``report`` and put the champion's back in its place;
    the challenger's report's path."""
    beside = challenger_report_path(report)
    report.replace(beside)
    fetch_champion_report(
        client,
        model_name,
        report,
        f'The new challenger\'s report is <a href="{beside.name}">{beside.name}</a>.',
    )
    return beside


def report_the_promoted_champion(client: MlflowClient, model_name: str, report: Path) -> None:
    """After a promotion: the new champion's report in place, no challenger's report beside."""
    report.parent.mkdir(parents=True, exist_ok=True)
    fetch_champion_report(client, model_name, report, "See its MLflow run's reporting/ folder.")
    challenger_report_path(report).unlink(missing_ok=True)


class RunSummaryHook:
    """Names each MLflow run, and ends every pipeline run with a short printed summary."""

    def __init__(self) -> None:
        self._facts: dict[str, Any] = {}
        self._run_id: str | None = None
        self._raw_path: str | None = None
        self._source: str | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._raw_path = (context.params or {}).get("raw_leads_path")

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._facts = {"tiers": Counter()}
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        self._source = STORE_SOURCE if "train_from_store" in names else self._raw_path
        # `--pipeline=reporting` redraws the report from a train run's outputs without knowing
        # what that run trained on: the paragraph the train run stamped is put back afterwards.
        redraws = pipeline is not None and "model_report" in pipeline.all_outputs()
        report = _filepath(catalog, "model_report") if redraws else None
        self._facts["kept_stamp"] = report_stamp(Path(report)) if report else None
        run = active_run()
        self._run_id = run.info.run_id if run else None

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        if dataset_name in _KEPT:
            self._facts[dataset_name] = data
        elif dataset_name == "scored_leads" and "tier" in getattr(data, "columns", ()):
            self._facts["tiers"].update(data["tier"].value_counts().to_dict())
        elif dataset_name == "daily_landing_exports" and isinstance(data, dict):
            days = sorted(data)
            self._facts["daily_exports"] = {
                "files": len(days),
                "leads": sum(len(frame) for frame in data.values()),
                "first": days[0][:10] if days else "-",
                "last": days[-1][:10] if days else "-",
            }
        elif dataset_name == "daily_outcome_exports" and isinstance(data, dict):
            self._facts["daily_outcomes"] = {
                "files": len(data),
                "outcomes": sum(len(frame) for frame in data.values()),
            }
        elif dataset_name == "generated_raw_leads" and CREATED_DATE in getattr(data, "columns", ()):
            dates = data[CREATED_DATE].dropna().astype(str)
            self._facts["generated"] = {
                "rows": len(data),
                "first": dates.min()[:10] if len(dates) else None,
                "last": dates.max()[:10] if len(dates) else None,
            }
        elif dataset_name == "clean_leads" and CREATED_DATE in getattr(data, "columns", ()):
            dates = data[CREATED_DATE]
            self._facts["trained_on"] = {
                "rows": len(data),
                "first": f"{dates.min():%Y-%m-%d}" if len(data) else None,
                "last": f"{dates.max():%Y-%m-%d}" if len(data) else None,
                "path": self._source or DEFAULT_EXPORT,
            }

    # Runs after the registry hook has given the new version its alias (see settings.HOOKS).
    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        facts = self._facts
        pipeline_name = _pipeline_name(run_params)
        client = mlflow_client_on_use()
        model_name = None
        if facts.get("scoring_model_version"):
            version = facts["scoring_model_version"]
            model_name = version["name"]
            if version["version"] != "local":
                facts["model_aliases"] = _aliases(client, model_name, version["version"])
        elif self._run_id and hasattr(pipeline, "log_model_kwargs"):
            model_name = pipeline.log_model_kwargs.get("registered_model_name")
            found = registered_versions(client, model_name, self._run_id) if model_name else []
            if found:
                version = max(found, key=int)
                # A search leaves aliases out; the version itself carries them.
                aliases = _aliases(client, model_name, version)
                facts["model"] = {
                    "name": model_name,
                    "version": version,
                    "aliases": aliases,
                    "why": _alias_reason(client, model_name, version),
                }
        kind = run_kind(facts)
        outputs = pipeline.all_outputs()
        paths = {name: _filepath(catalog, name) for name in _FILES[kind] if name in outputs}
        files = {_FILES[kind][name]: path for name, path in paths.items() if path}
        report_path = paths.get("model_report")
        if kind == "train" and report_path:
            report = Path(report_path)
            stamp = (
                trained_on_html(facts["trained_on"], facts.get("model"))
                if facts.get("trained_on")
                else facts.get("kept_stamp")
            )
            if stamp and stamp_report(report, stamp):
                self._log_report(client, report)
            model = facts.get("model")
            if model and CHALLENGER in model["aliases"]:
                beside = keep_champion_report(client, model["name"], report)
                files["Model report (champion)"] = files.pop("Model report")
                files["Model report (this run's challenger)"] = beside.as_posix()
        record = facts.get("promotion_record") or {}
        # Asked only after a promotion: the report's dataset is MLflow's, costly to make.
        promoted = kind == "promote" and record.get("outcome") == "promoted"
        report_file = _filepath(catalog, "model_report") if promoted else None
        if report_file:
            report_the_promoted_champion(client, record["model_name"], Path(report_file))
            files["Model report (the new champion)"] = report_file
        run = None
        if self._run_id:
            info = client.get_run(self._run_id).info
            from mlflow import get_tracking_uri  # a run of MLflow's: MLflow is imported already

            run = {"name": info.run_name, "id": info.run_id, "uri": get_tracking_uri()}
        sys.stdout.write(format_summary(pipeline_name, facts, files, run) + "\n")
        sys.stdout.flush()

    def _log_report(self, client: MlflowClient, report: Path) -> None:
        """Replace the run's copy of the report with the stamped one."""
        from mlflow.exceptions import MlflowException  # on use: lazy_mlflow says why

        if self._run_id is None:
            return
        try:
            client.log_artifact(self._run_id, str(report), "reporting")
        except (MlflowException, OSError) as error:
            logger.warning("The stamped model report was not logged to MLflow: %s", error)
