"""Shapes handed to MLflow: metrics as kedro-mlflow logs them, and what the model's page shows.

The registered model carries an output signature and an input example, one complete raw lead.
The input side of the signature is left out on purpose: MLflow enforces a logged input schema
before the model sees a request, dropping columns it does not list and rejecting types it does
not expect, while the model's own validation reads every field as text and quarantines a bad
lead with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from lead_scoring.contract import CREATED_DATE, LEAD_ID, ORIGIN_COLUMNS

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

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


def as_mlflow_metrics(values: dict) -> dict[str, dict[str, float]]:
    """Numbers in the form kedro-mlflow's metrics datasets log, one step each."""
    return {name: {"value": float(value), "step": 0} for name, value in values.items()}


def input_example(interaction_columns: list[str]) -> pd.DataFrame:
    """The example lead with every raw column, as text; no click is an empty cell."""
    row = {column: EXAMPLE_LEAD.get(column) for column in [*ORIGIN_COLUMNS, *interaction_columns]}
    return pd.DataFrame([row], dtype="object")


def output_signature(n_reasons: int) -> ModelSignature:
    """One row per lead: scored with probability, score, tier and reasons, or quarantined."""
    # Imported here: scoring code imports this module for its metrics and needs no MLflow types.
    from mlflow.models import ModelSignature
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
