"""Project settings: hooks, configuration loading and the session store."""

import os
from pathlib import Path

from kedro.utils import find_kedro_project

from lead_scoring.hooks import (
    ExistingExportGuardHook,
    ModelRegistryHook,
    StreamedOutputsHook,
    TrackingPreflightHook,
)
from lead_scoring.lazy_mlflow import LazyMlflowHook
from lead_scoring.pipeline_aliases import PipelineAliasHook
from lead_scoring.quiet import silence_known_noise
from lead_scoring.run_summary import RunSummaryHook
from lead_scoring.store.hook import StoreLockHook
from lead_scoring.tracking_store import RunLockHook

# A notebook's `%load_ext kedro.ipython` reads these settings first: quiet from there on, as
# `kedro` makes itself through its `kedro.init` entry point. (Not in the package's __init__,
# which the registered model runs too; kedro-mlflow itself is imported when a run needs it.)
silence_known_noise()

# The summary comes after the registry hook: of two `trylast` hooks, pluggy calls the one
# registered last, last, so the summary sees the alias the registry hook gave.
_registry = ModelRegistryHook()
HOOKS = (
    TrackingPreflightHook(),
    _registry,
    RunSummaryHook(_registry),
    StreamedOutputsHook(),
    ExistingExportGuardHook(),
    RunLockHook(),
    StoreLockHook(),
    PipelineAliasHook(),
    # Last, so called first of the plain hooks, as kedro-mlflow's plugin hook was.
    LazyMlflowHook(),
)

# Telemetry tries to reach the network on every command; the project never phones home.
# kedro-mlflow's hook runs through LazyMlflowHook, which takes its place (never twice).
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry", "kedro-mlflow")


def _project_root() -> str:
    """The project's root, so relative stores resolve the same from notebooks/ as from the root."""
    return (find_kedro_project(Path.cwd()) or Path.cwd()).as_posix()


CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # `env`, so configuration can point at a remote server.
    "custom_resolvers": {"env": os.environ.get, "project_root": _project_root},
    # kedro-mlflow adds this pattern itself, but the tracking preflight reads it first.
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
}
