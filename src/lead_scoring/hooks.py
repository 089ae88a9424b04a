"""Project hooks: check tracking and the export before work starts, alias the new model after."""

from __future__ import annotations

import html
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from lead_scoring.contract import CHALLENGER, CHAMPION, LABEL, REGISTERED_MODEL_NAME
from lead_scoring.datasets import Publishable
from lead_scoring.errors import LeadScoringError
from lead_scoring.lazy_mlflow import active_run, mlflow_client_on_use
from lead_scoring.tracking import input_example, output_signature
from lead_scoring.tracking_store import check_local_store, sqlite_store_path

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)


class TrackingUnreachableError(LeadScoringError):
    """The MLflow tracking server does not answer."""


class TrackingPreflightHook:
    """Stops a run at once when the configured tracking server is down, not after an hour."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        uri = str(context.config_loader["mlflow"]["server"]["mlflow_tracking_uri"] or "")
        check_local_store(uri)
        if not uri.startswith(("http://", "https://")):
            return
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=5):
                pass
        except (urllib.error.URLError, OSError) as error:
            local_model = context.params.get("inference", {}).get("model", {}).get("uri")
            if not local_model:
                raise TrackingUnreachableError(
                    f"The MLflow tracking server at {uri} is unreachable ({error}); the run "
                    "stopped before doing any work. Start the server or unset "
                    "MLFLOW_TRACKING_URI to use the project's local mlflow.db."
                ) from error
            # Scoring with a model on disk needs no registry: track this run locally instead.
            local_store = f"sqlite:///{(context.project_path / 'mlflow.db').as_posix()}"
            logger.warning(
                "The MLflow tracking server at %s is unreachable; scoring with the local model "
                "%s and tracking this run in %s.",
                uri,
                local_model,
                local_store,
            )
            os.environ["MLFLOW_TRACKING_URI"] = local_store


def promote_model_version(
    client: MlflowClient, run_id: str, store_loop: bool = False
) -> tuple[str, str, str] | None:
    """Alias the run's registered version ``champion`` if it beat the champion on its holdout, else ``challenger``.

    In the store loop (``store_loop``) a new version is the challenger whenever a champion
    exists: ``kedro run --pipeline=promote`` decides later, on the leads both scored.
    """
    from mlflow.exceptions import MlflowException  # a run of MLflow's: imported already

    versions = client.search_model_versions(f"name='{REGISTERED_MODEL_NAME}' and run_id='{run_id}'")
    if not versions:
        return None
    version = max(versions, key=lambda v: int(v.version)).version
    try:
        champion = client.get_model_version_by_alias(REGISTERED_MODEL_NAME, "champion")
    except MlflowException:
        champion = None
    # Both models scored on the same, newest leads: recorded AUCs of different holdouts mean nothing.
    metrics = client.get_run(run_id).data.metrics
    challenge = {
        k[len("challenge.") :]: v for k, v in metrics.items() if k.startswith("challenge.")
    }
    if champion is None:
        alias, why = "champion", "there was no champion yet"
    elif store_loop:
        alias, why = "challenger", "a champion exists; `promote` decides on realised results"
    elif challenge.get("champion_version") != float(champion.version):
        alias = "challenger"
        why = f"the run did not score champion version {champion.version} on its holdout"
    else:
        verdict = "beats" if challenge["challenger_wins"] else "does not beat"
        alias = "champion" if challenge["challenger_wins"] else "challenger"
        why = (
            f"on the same {challenge['leads']:.0f} holdout leads its ROC AUC "
            f"{challenge['challenger_roc_auc']:.4f} {verdict} version {champion.version}'s "
            f"{challenge['champion_roc_auc']:.4f} by more than {challenge['margin_roc_auc']:.3f} "
            f"(log loss {challenge['challenger_log_loss']:.4f} against "
            f"{challenge['champion_log_loss']:.4f})"
        )
    client.set_registered_model_alias(REGISTERED_MODEL_NAME, alias, version)
    client.set_model_version_tag(REGISTERED_MODEL_NAME, version, "alias_reason", why)
    return version, alias, why


# What train_from_store trains on, instead of a file.
STORE_SOURCE = "lead store"


def training_source(
    pipeline_names: list[str], raw_leads_path: str | None, store_url: str
) -> str | None:
    """Where a run's training leads come from, as a local path MLflow can record; None if not one.

    train_from_store reads the lead store: its SQLite file, or nothing MLflow can name for a
    server database (and a wrong file name is worse than none).
    """
    if "train_from_store" in pipeline_names:
        store = sqlite_store_path(store_url)
        return str(store) if store else None
    return raw_leads_path


def trained_on_html(trained: dict, model: dict | None, generated_export: str | None = None) -> str:
    """The model report's opening paragraph: the training data and the registered version."""
    path = trained["path"]
    if path == STORE_SOURCE:
        where = (
            "the lead store's labelled leads (<code>kedro run --pipeline=train_from_store</code>)"
        )
    elif path == generated_export:
        where = (
            f"the default export <code>{html.escape(path)}</code> (synthetic, written by "
            "<code>kedro run --pipeline=generate</code>, unless you put your own export there)"
        )
    else:
        where = f"your export <code>{html.escape(path)}</code>"
    span = f", created {trained['first']} to {trained['last']}" if trained.get("first") else ""
    text = f"Trained on {where}: {trained['rows']:,} valid leads{html.escape(span)}."
    if model:
        # A version this run registered carries the alias the run gave it.
        aliases = ", ".join(f"<strong>{html.escape(a)}</strong>" for a in model["aliases"])
        why = f": {html.escape(model['why'])}" if model.get("why") else ""
        text += (
            f" This report describes registered model <code>{html.escape(model['name'])}</code> "
            f"version <strong>{model['version']}</strong>, alias {aliases} when the run ended{why}."
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
    page = _STAMP.sub("", report.read_text(encoding="utf-8"))
    report.write_text(page.replace("</h1>\n", f"</h1>\n{paragraph}", 1), encoding="utf-8")
    return True


def challenger_report_path(report: Path) -> Path:
    """Where a challenger's report sits: beside the champion's, named as such."""
    return report.with_name(f"{report.stem}_challenger{report.suffix}")


def fetch_champion_report(client: MlflowClient, report: Path, note: str) -> None:
    """Put the champion's report, the copy logged with its training run, at ``report``.

    Where it cannot be read, a short page says which version is champion, and ``note``.
    """
    from mlflow.exceptions import MlflowException  # a run of MLflow's: imported already

    champion = None
    report.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=report.parent) as download:
        try:
            champion = client.get_model_version_by_alias(REGISTERED_MODEL_NAME, CHAMPION)
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


def catalog_path(catalog, name: str) -> str | None:
    """The file or folder a catalog entry writes, relative to the project when inside it."""
    config = catalog.config_resolver.resolve_pattern(name)
    # A PartitionedDataset writes a folder, its `path`; an MlflowArtifactDataset names the
    # dataset that writes.
    inner = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
    path = config.get("filepath") or config.get("path") or inner.get("filepath")
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _report_path(catalog) -> Path | None:
    path = catalog_path(catalog, "model_report")
    return Path(path) if path else None


class ModelRegistryHook:
    """The registered model's record: its input example and training data, the alias of the
    version a train run registers and why, and the model report that names that version."""

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._from_store = False
        self._source: str | None = None
        self._kept_stamp: str | None = None
        self._saved: dict[str, Any] = {}
        # The version this run registered, its aliases and why: the run summary prints it.
        self.model: dict | None = None

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        run = active_run()
        self._run_id = run.info.run_id if run else None
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        self._from_store = "train_from_store" in names
        self._saved, self._source, self.model = {}, None, None
        # `--pipeline=reporting` redraws the report without knowing what the model was trained
        # on: the paragraph the train run stamped is put back afterwards.
        report = _report_path(catalog) if "model_report" in pipeline.all_outputs() else None
        self._kept_stamp = report_stamp(report) if report else None
        if hasattr(pipeline, "log_model_kwargs"):
            self._source = training_source(
                names, catalog_path(catalog, "raw_leads"), catalog.get("lead_store").url
            )
            # kedro-mlflow logs the model after the run with these; the example needs the
            # interaction columns of this project's mapping.
            interactions = catalog.load("interaction_mapping")["interaction_type"].tolist()
            pipeline.log_model_kwargs["input_example"] = input_example(interactions)
            # Here, not in the registry: building it imports MLflow, which most runs never need.
            n_reasons = catalog.load("params:scoring.n_reasons")
            pipeline.log_model_kwargs["signature"] = output_signature(n_reasons)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        if dataset_name in ("registered_model_summary", "promotion_record"):
            self._saved[dataset_name] = data
        if dataset_name != "clean_leads" or self._source is None or active_run() is None:
            return
        import mlflow
        from mlflow.data.pandas_dataset import from_pandas

        with warnings.catch_warnings():
            # Two notes MLflow prints while it describes any local pandas frame: a local path
            # matches two source types that mean the same, and integer columns cannot hold a
            # missing value (nothing here enforces this schema).
            warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer column")
            dataset = from_pandas(
                data,
                source=self._source,
                name=self._source.rsplit("/", 1)[-1],
                targets=LABEL if LABEL in data else None,
            )
            mlflow.log_input(dataset, context="training")

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        client = mlflow_client_on_use()
        report = _report_path(catalog)
        promoted = (self._saved.get("promotion_record") or {}).get("outcome") == "promoted"
        if promoted and report is not None:
            # The new champion's report in place, no challenger's report beside it.
            fetch_champion_report(client, report, "See its MLflow run's reporting/ folder.")
            challenger_report_path(report).unlink(missing_ok=True)
        trains = hasattr(pipeline, "inference")
        model = self.model = self._alias(client) if trains else None
        paragraph = self._kept_stamp
        if trains:
            generated = catalog_path(catalog, "generated_raw_leads")
            paragraph = trained_on_html(self._trained_on(catalog), model, generated)
        if report is None or not paragraph or not stamp_report(report, paragraph):
            return
        if self._run_id is not None:
            from mlflow.exceptions import MlflowException

            try:
                client.log_artifact(self._run_id, str(report), "reporting")
            except (MlflowException, OSError) as error:
                logger.warning("The stamped model report was not logged to MLflow: %s", error)
        if model and CHALLENGER in model["aliases"]:
            beside = challenger_report_path(report)
            report.replace(beside)
            note = f'The new challenger\'s report is <a href="{beside.name}">{beside.name}</a>.'
            fetch_champion_report(client, report, note)

    def _alias(self, client: MlflowClient) -> dict | None:
        """Alias the version this run registered; the version, its aliases and why."""
        if self._run_id is None:
            return None
        promoted = promote_model_version(client, self._run_id, self._from_store)
        if promoted is None:
            logger.warning("No registered model version was found for run %s.", self._run_id)
            return None
        version, alias, why = promoted
        logger.info(
            "Registered %s version %s as '%s': %s.", REGISTERED_MODEL_NAME, version, alias, why
        )
        # A version this run just registered carries the one alias given here.
        return {
            "name": REGISTERED_MODEL_NAME,
            "version": str(version),
            "aliases": [alias],
            "why": why,
        }

    def _trained_on(self, catalog) -> dict:
        """What the model was trained on, for the report's opening paragraph."""
        trained = self._saved.get("registered_model_summary") or {}
        return {
            "path": STORE_SOURCE if self._from_store else catalog_path(catalog, "raw_leads"),
            "rows": trained.get("leads", 0),
            "first": (trained.get("oldest_lead") or "")[:10] or None,
            "last": (trained.get("newest_lead") or "")[:10] or None,
        }


class ExportExistsError(LeadScoringError):
    """The generate pipeline would replace an existing export."""


class ExistingExportGuardHook:
    """Stops a generate run whose target export exists, unless generate.overwrite is true.

    Its default target is also the training export: a 2,000-lead test run once replaced a
    240,000-lead export without a word.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        export = "generated_raw_leads"
        if export not in pipeline.all_outputs() or not catalog.exists(export):
            return
        if catalog.load("params:generate").get("overwrite", False) is True:
            return
        path = catalog.config_resolver.resolve_pattern(export)["filepath"]
        raise ExportExistsError(
            f"{path} already exists and generate does not replace it: write elsewhere with "
            "--params=generated_leads_path=data/01_raw/other_leads.csv, or replace it with "
            "--params=generate.overwrite=true."
        )


def _publish_outputs(pipeline, catalog, keep: bool) -> None:
    for name in pipeline.all_outputs():
        if isinstance(dataset := catalog.get(name), Publishable):
            dataset.commit() if keep else dataset.discard()


class StreamedOutputsHook:
    """Publishes chunk-by-chunk outputs when a run succeeds, and drops them when it fails."""

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        _publish_outputs(pipeline, catalog, keep=True)

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog):
        # An alert raised after the run stored its work (score_new's drift alert) keeps the
        # files that describe that work: the call list of the scores now in the store.
        _publish_outputs(pipeline, catalog, keep=getattr(error, "outputs_stored", False))
