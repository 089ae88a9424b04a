"""kedro-mlflow's hook, started only by a run that uses MLflow.

kedro-mlflow's hook sets MLflow up for every run: it imports MLflow and opens the tracking
store (about 2 s of CPU), which `kedro run --pipeline=ingest` with nothing new never uses. This
hook takes kedro-mlflow's place under the plugin's own entry-point name, ``mlflow_hook``: pluggy
then skips the plugin's entry point, and this hook forwards every call to kedro-mlflow's hook
once a run needs MLflow. (In a `kedro` command, kedro-mlflow's CLI commands still import MLflow,
`kedro --help` included; a session run in process, as Airflow's tasks run, does not.)

Kedro names the requested pipelines before it creates the context, so kedro-mlflow sets MLflow
up at ``after_context_created`` as it always did, unless every requested pipeline is one of
``PIPELINES_WITHOUT_MLFLOW``. Such a run still starts MLflow at ``before_pipeline_run`` if its
pipeline turns out to read or write an MLflow dataset. A context made outside a run (a notebook)
sets MLflow up at once, as kedro-mlflow does.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

# Pipelines whose nodes and datasets never touch MLflow: the lead store's quick runs and the
# generators. kedro-mlflow tracks none of them (mlflow.yml `disable_tracking`). score_new and
# realised_performance are not here: kedro-mlflow does not track them either, but they read the
# registry and log to MLflow through the tracking URI kedro-mlflow sets up.
PIPELINES_WITHOUT_MLFLOW = frozenset({"ingest", "generate", "generate_daily", "ingestion"})


def needs_mlflow(pipeline_names: list[str] | None) -> bool:
    """Whether a run of these pipelines (None: not known, or the default) uses MLflow."""
    return not pipeline_names or not set(pipeline_names) <= PIPELINES_WITHOUT_MLFLOW


def active_run() -> Any:
    """MLflow's active run; None, without importing MLflow, in a process that never imported it."""
    mlflow = sys.modules.get("mlflow")
    return mlflow.active_run() if mlflow is not None else None


class _ClientOnUse:
    """An ``MlflowClient`` made when first asked something: a run that asks nothing skips MLflow."""

    def __init__(self) -> None:
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient()
        return getattr(self._client, name)


def mlflow_client_on_use() -> MlflowClient:
    """An ``MlflowClient()``, made (MLflow imported, its store opened) on its first use."""
    return cast("MlflowClient", _ClientOnUse())


def _kedro_mlflow_hook() -> Any:
    """kedro-mlflow's hook object (one per process, as when Kedro loads the plugin)."""
    from lead_scoring.quiet import define_kedro_mlflow_model

    define_kedro_mlflow_model()
    from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook

    return mlflow_hook


def _uses_mlflow_datasets(pipeline, catalog) -> bool:
    return any(
        (catalog.get_type(name) or "").startswith("kedro_mlflow.") for name in pipeline.datasets()
    )


class LazyMlflowHook:
    """Starts kedro-mlflow's hook when a run needs MLflow, then passes it every call."""

    def __init__(self) -> None:
        # pluggy registers a hook under its `__name__`: the plugin's entry point is then skipped.
        self.__name__ = "mlflow_hook"
        self._hook: Any = None
        self._context: Any = None
        self._catalog_created: dict[str, Any] = {}

    def _start(self) -> None:
        self._hook = _kedro_mlflow_hook()
        self._hook.after_context_created(context=self._context)
        if self._catalog_created:
            self._hook.after_catalog_created(**self._catalog_created)

    @hook_impl
    def after_context_created(self, context) -> None:
        self._hook, self._context, self._catalog_created = None, context, {}
        # Private, but the only place Kedro keeps the requested pipelines before the run starts.
        if needs_mlflow(getattr(pipelines, "_requested_pipelines", None)):
            self._start()

    @hook_impl
    def after_catalog_created(
        self, catalog, conf_catalog, conf_creds, parameters, save_version, load_versions
    ) -> None:
        self._catalog_created = {
            "catalog": catalog,
            "conf_catalog": conf_catalog,
            "conf_creds": conf_creds,
            "parameters": parameters,
            "save_version": save_version,
            "load_versions": load_versions,
        }
        if self._hook is not None:
            self._hook.after_catalog_created(**self._catalog_created)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if self._hook is None and (
            needs_mlflow(run_params.get("pipeline_names"))
            or _uses_mlflow_datasets(pipeline, catalog)
        ):
            self._start()
        if self._hook is not None:
            self._hook.before_pipeline_run(
                run_params=run_params, pipeline=pipeline, catalog=catalog
            )

    @hook_impl
    def before_node_run(self, node, catalog, inputs: dict[str, Any], is_async: bool) -> None:
        if self._hook is not None:
            self._hook.before_node_run(node=node, catalog=catalog, inputs=inputs, is_async=is_async)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        if self._hook is not None:
            self._hook.after_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog):
        if self._hook is not None:
            self._hook.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            )
