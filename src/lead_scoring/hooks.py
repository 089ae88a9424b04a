"""Project hooks: check tracking before work starts, and promote the new model after a run."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from lead_scoring.contract import REGISTERED_MODEL_NAME
from lead_scoring.datasets import ScoredChunksDataset, StreamedCSVDataset
from lead_scoring.errors import LeadScoringError
from lead_scoring.lazy_mlflow import active_run
from lead_scoring.tracking_store import check_local_store

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

CHALLENGE_PREFIX = "challenge."
# The model version tag that says why the version got its alias; the run summary prints it.
ALIAS_REASON_TAG = "alias_reason"
# Why a model trained in the store loop is the challenger (issue 21).
STORE_LOOP_REASON = "challenger: a champion exists; `promote` decides on realised results"


class TrackingUnreachableError(LeadScoringError):
    """The MLflow tracking server does not answer."""


def check_tracking_server(uri: str, timeout: float = 5.0) -> None:
    """Fail fast when an HTTP tracking server does not answer its health check."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            pass
    except (urllib.error.URLError, OSError) as error:
        raise TrackingUnreachableError(
            f"The MLflow tracking server at {uri} is unreachable ({error}); "
            "the run stopped before doing any work. Start the server or unset MLFLOW_TRACKING_URI "
            "to use the project's local mlflow.db."
        ) from error


class TrackingPreflightHook:
    """Stops a run at once when the configured tracking server is down, not after an hour."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        uri = context.config_loader["mlflow"]["server"]["mlflow_tracking_uri"]
        if not uri:
            return
        check_local_store(str(uri))
        try:
            check_tracking_server(str(uri))
        except TrackingUnreachableError:
            local_model = context.params.get("inference", {}).get("model", {}).get("uri")
            if not local_model:
                raise
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


def _challenge(client: MlflowClient, run_id: str) -> dict[str, float]:
    """The run's comparison of itself with the champion, on its own holdout."""
    metrics = client.get_run(run_id).data.metrics
    return {
        k.removeprefix(CHALLENGE_PREFIX): v
        for k, v in metrics.items()
        if k.startswith(CHALLENGE_PREFIX)
    }


def promote_model_version(
    client: MlflowClient, run_id: str, store_loop: bool = False
) -> tuple[str, str, str] | None:
    """Alias the run's registered version ``champion`` if it beat the champion on its holdout, else ``challenger``.

    In the store loop (``store_loop``) a new version is the challenger whenever a champion
    exists: ``kedro run --pipeline=promote`` decides later, on the leads both scored.
    """
    from mlflow.exceptions import MlflowException  # on use: lazy_mlflow says why

    versions = client.search_model_versions(f"name='{REGISTERED_MODEL_NAME}' and run_id='{run_id}'")
    if not versions:
        return None
    version = max(versions, key=lambda v: int(v.version)).version
    try:
        champion = client.get_model_version_by_alias(REGISTERED_MODEL_NAME, "champion")
    except MlflowException:
        champion = None
    # Both models scored on the same, newest leads: recorded AUCs of different holdouts mean nothing.
    challenge = _challenge(client, run_id)
    if champion is None:
        alias, why = "champion", "there was no champion yet"
    elif store_loop:
        alias, why = "challenger", STORE_LOOP_REASON.removeprefix("challenger: ")
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
    client.set_model_version_tag(REGISTERED_MODEL_NAME, version, ALIAS_REASON_TAG, why)
    return version, alias, why


class ModelRegistryHook:
    """After a train run, gives the newly registered model version its alias and says why."""

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._store_loop = False

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        run = active_run()
        self._run_id = run.info.run_id if run else None
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        self._store_loop = "train_from_store" in names

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if self._run_id is None or not hasattr(pipeline, "inference"):
            return
        from mlflow.tracking import MlflowClient  # a run of MLflow's: MLflow is imported already

        promoted = promote_model_version(MlflowClient(), self._run_id, self._store_loop)
        if promoted is None:
            logger.warning("No registered model version was found for run %s.", self._run_id)
            return
        version, alias, why = promoted
        logger.info(
            "Registered %s version %s as '%s': %s.", REGISTERED_MODEL_NAME, version, alias, why
        )


def _streamed_outputs(pipeline, catalog) -> list[StreamedCSVDataset | ScoredChunksDataset]:
    return [
        dataset
        for name in pipeline.all_outputs()
        if isinstance(dataset := catalog.get(name), StreamedCSVDataset | ScoredChunksDataset)
    ]


class StreamedOutputsHook:
    """Publishes chunk-by-chunk outputs when a run succeeds, and drops them when it fails."""

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        for dataset in _streamed_outputs(pipeline, catalog):
            dataset.commit()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog):
        # An alert raised after the run stored its work (score_new's drift alert) keeps the
        # files that describe that work: the call list of the scores now in the store.
        keep = getattr(error, "outputs_stored", False)
        for dataset in _streamed_outputs(pipeline, catalog):
            if keep:
                dataset.commit()
            else:
                dataset.discard()
