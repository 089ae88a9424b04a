"""What `mlflow ui` shows of a run: a machine-learning experiment, runs told apart by name, and
the model's output signature, an input example and the training data.

The input side of the signature is left out on purpose: MLflow enforces a logged input schema
before the model sees a request, dropping columns it does not list and rejecting types it does
not expect, while the model's own validation reads every field as text and quarantines a bad
lead with its reason. The input example, one complete raw lead, shows the request format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import warnings
from typing import TYPE_CHECKING, Any

import pandas as pd
from kedro.framework.hooks import hook_impl

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID, ORIGIN_COLUMNS
from lead_scoring.lazy_mlflow import active_run

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

logger = logging.getLogger(__name__)

# The UI's "Machine learning" kind (mlflow.server.js: ExperimentKind.CUSTOM_MODEL_DEVELOPMENT):
# tagged, the UI does not ask which kind the experiment is. Whether it opens on runs or on GenAI
# traces is a browser setting MLflow 3.17 does not take from the tag; the README's link sets it.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MACHINE_LEARNING_KIND = "custom_model_development"
# The runs table opens with no metric column; a view shared through an experiment tag opens
# with these, at #/experiments/<id>?workflowType=machine_learning&viewStateShareKey=metrics.
SHARED_VIEW_TAG = "mlflow.sharedViewState.metrics"
VIEW_METRICS = [
    "holdout.roc_auc",
    "holdout.baseline_roc_auc",
    "holdout.pr_auc",
    "holdout.brier",
    "data.rows_read",
    "data.rows_quarantined",
    "batch.rows_read",
    "batch.rows_quarantined",
    "batch.drifting_features",
]
METRICS_VIEW = json.dumps(
    {
        "selectedColumns": [f"metrics.`{name}`" for name in VIEW_METRICS],
        "orderByKey": "attributes.start_time",
        "orderByAsc": False,
    }
)

# One lead as the export has it (the README's serving example); empty interactions left out.
EXAMPLE_LEAD = {
    "created_date": "2022-01-14 10:21:37",
    "city_mapped": "pune",
    "first_platform_c": "Level3",
    "first_utm_medium_c": "Level0",
    "first_utm_source_c": "Level2",
    "total_leads_droppped": "2",
    "referred_lead": "0",
    "download_button_clicked": "1",
    "syllabus_expand": "3",
}


def input_example(interaction_columns: list[str]) -> pd.DataFrame:
    """The example lead with every raw column, as text; no click is an empty cell."""
    row = {column: EXAMPLE_LEAD.get(column) for column in [*ORIGIN_COLUMNS, *interaction_columns]}
    return pd.DataFrame([row], dtype="object")


def output_signature(n_reasons: int = 3) -> ModelSignature:
    """One row per lead: scored with probability, score, tier and reasons, or quarantined."""
    from mlflow.models import ModelSignature  # on use: lazy_mlflow says why
    from mlflow.types.schema import ColSpec, Schema, TensorSpec

    columns: list[ColSpec | TensorSpec] = [
        ColSpec("string", LEAD_ID),
        ColSpec("string", CREATED_DATE, required=False),
        ColSpec("double", "probability", required=False),
        ColSpec("long", "score", required=False),
        ColSpec("string", "tier", required=False),
        *[ColSpec("string", f"reason_{k + 1}", required=False) for k in range(n_reasons)],
        ColSpec("string", "status"),
        ColSpec("string", "quarantine_reason", required=False),
    ]
    return ModelSignature(inputs=None, outputs=Schema(columns))


def training_source(
    pipeline_names: list[str], raw_leads_path: str | None, store_url: str
) -> str | None:
    """Where a run's training leads come from, as a local path MLflow can record; None if not one.

    train_from_store reads the lead store: its SQLite file, or nothing MLflow can name for a
    server database (and a wrong file name is worse than none).
    """
    if "train_from_store" in pipeline_names:
        return store_url.removeprefix("sqlite:///") if store_url.startswith("sqlite:///") else None
    return raw_leads_path or "data/01_raw/leads.csv"


def run_name(pipeline_name: str, started: dt.datetime) -> str:
    """A run's name in the UI: its pipeline and when it started, e.g. `train 2022-03-01 09:30:12`."""
    return f"{pipeline_name} {started:%Y-%m-%d %H:%M:%S}"


class MlflowUiHook:
    """Names runs, marks the experiment as machine learning, describes the model and its data."""

    def __init__(self) -> None:
        self._training_source: str | None = None
        self._run_source: str | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._training_source = (context.params or {}).get("raw_leads_path")

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        run = active_run()
        if run is None:
            return
        import mlflow  # a run of MLflow's: MLflow is imported already

        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        name = "+".join(str(n) for n in names if n) or "__default__"
        store = catalog.get("stored_labelled_leads") if "stored_labelled_leads" in catalog else None
        self._run_source = training_source(
            [str(n) for n in names if n],
            self._training_source,
            str(getattr(store, "_connection_str", "")),
        )
        mlflow.set_tag("mlflow.runName", run_name(name, dt.datetime.now()))
        client = mlflow.MlflowClient()
        experiment = client.get_experiment(run.info.experiment_id)
        for key, value in (
            (EXPERIMENT_KIND_TAG, MACHINE_LEARNING_KIND),
            (SHARED_VIEW_TAG, METRICS_VIEW),
        ):
            if experiment.tags.get(key) != value:
                client.set_experiment_tag(run.info.experiment_id, key, value)
        if hasattr(pipeline, "log_model_kwargs"):
            # kedro-mlflow logs the model after the run with these; the example needs the
            # interaction columns of this project's mapping.
            interactions = catalog.load("interaction_mapping")["interaction_type"].tolist()
            pipeline.log_model_kwargs.update(
                signature=output_signature(),
                input_example=input_example(interactions),
            )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:
        if dataset_name != "clean_leads" or active_run() is None:
            return
        source = self._run_source
        if source is None:
            return
        import mlflow  # a run of MLflow's: MLflow is imported already
        from mlflow.data.pandas_dataset import from_pandas

        with warnings.catch_warnings():
            # Two notes MLflow prints while it describes any local pandas frame: a local path
            # matches two source types that mean the same, and integer columns cannot hold a
            # missing value (nothing here enforces this schema).
            warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer column")
            dataset = from_pandas(
                data,
                source=source,
                name=source.rsplit("/", 1)[-1],
                targets=LABEL if LABEL in data else None,
            )
            mlflow.log_input(dataset, context="training")
