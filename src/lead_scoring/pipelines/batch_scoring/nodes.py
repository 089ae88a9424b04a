"""Batch scoring: new leads through the registered model, split into scored and quarantined."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pandas as pd

from lead_scoring.contract import (
    CITY,
    CREATED_DATE,
    LABEL,
    LEAD_ID,
    LEAD_LEVELS,
    LEADS_DROPPED,
    LINE,
    MEDIUM,
    MODEL_INPUT,
    PLATFORM,
    QUARANTINED,
    REFERRED,
    SCORED,
    SCORING_QUARANTINE_COLUMNS,
    SOURCE,
)
from lead_scoring.datasets import ChunkedLeads
from lead_scoring.datasets.raw_leads_dataset import ExportChunk
from lead_scoring.datasets.scored_chunks_dataset import (
    EXPORT_PREFIX,
    LEVEL_PREFIX,
    MODEL_INPUT_PREFIX,
    ScoredChunk,
    ScoredChunks,
)
from lead_scoring.errors import LeadScoringError
from lead_scoring.heavy_types import PyFuncModel
from lead_scoring.pipelines.validation import parse_numbers
from lead_scoring.tracking import as_mlflow_metrics

logger = logging.getLogger(__name__)

MODEL_VERSION = "model_version"
# ``row`` is the lead's 0-based position among the export's leads, ``line`` the file line its
# record starts on (the header is line 1): a lead with a blank id is still found in the file.

# The export's own fields that follow a lead past scoring: its origin to the call list, and the
# realised label of a labelled backfill.
ORIGIN_FIELDS = [CITY, PLATFORM, MEDIUM, SOURCE, LEADS_DROPPED, REFERRED]
CARRIED_FIELDS = [*ORIGIN_FIELDS, LABEL]


def is_answer(column: str) -> bool:
    """Whether a column of a scored chunk is the model's answer or the lead's file line."""
    return not column.startswith((EXPORT_PREFIX, MODEL_INPUT_PREFIX, LEVEL_PREFIX))


class NoTrainedModelError(LeadScoringError):
    """The registry has no model version to score with."""


class ModelLoadError(LeadScoringError):
    """The model version exists but its files cannot be loaded."""


class ScoringContractError(LeadScoringError):
    """The model did not answer one row per input row."""


def find_model_version(params: dict) -> dict:
    """The registered model version to score with: the pinned version, else the alias's."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    name, version, alias = params["name"], params.get("version"), params.get("alias")
    if params.get("uri"):
        # A model directory on disk scores without asking the registry, e.g. when it is down.
        logger.info("Scoring with the local model at %s", params["uri"])
        return {"name": name, "version": "local", "run_id": None, "uri": params["uri"]}
    wanted = f"version {version}" if version is not None else f"alias '{alias}'"
    try:
        if version is not None:
            found = MlflowClient().get_model_version(name, str(version))
        else:
            found = MlflowClient().get_model_version_by_alias(name, str(alias))
    except MlflowException as error:
        raise NoTrainedModelError(_why_no_model(name, wanted)) from error
    logger.info("Scoring with %s version %s (%s)", name, found.version, wanted)
    # Load by version, not alias: the alias may move to a new model while this run scores.
    return {
        "name": name,
        "version": str(found.version),
        "run_id": found.run_id,
        "uri": f"models:/{name}/{found.version}",
        "aliases": sorted(found.aliases),
    }


def _why_no_model(name: str, wanted: str) -> str:
    """Why the registry has no model to score with: never trained, emptied, or no such version."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client, store = MlflowClient(), mlflow.get_tracking_uri()
    missing = (
        f"No trained model to score with: the registry at {store} has no '{name}' model with "
        f"{wanted}. Run `kedro run --pipeline=train` first"
    )
    try:
        client.get_registered_model(name)
    except MlflowException:
        pass
    else:
        return f"{missing}, or pin a version that exists."
    # Finished train runs, each of which registered a version, but no model left: emptied.
    train_runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="attributes.run_name LIKE 'train%' and attributes.status = 'FINISHED'",
        max_results=1,
    )
    if train_runs:
        return (
            f"The registry at {store} has no model '{name}' any more, though runs there logged "
            "one: the registry was emptied. Restore the store from a backup, or run "
            "`kedro run --pipeline=train` to register a new model."
        )
    return f"{missing}."


def load_scoring_model(model_version: dict) -> PyFuncModel:
    """The registered scoring pipeline, as the MLflow pyfunc model that serving runs too."""
    import mlflow

    try:
        # The project pins its stack (requirements.lock); MLflow's own re-check of the model's
        # requirements against installed packages costs seconds on every run.
        return mlflow.pyfunc.load_model(model_version["uri"], suppress_warnings=True)
    except Exception as error:
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelLoadError(
            f"Cannot load {model_version['name']} version {model_version['version']} "
            f"({model_version['uri']}): {cause}. Retrain with `kedro run --pipeline=train`, or pin "
            "another version with --params=inference.model.version=N."
        ) from error


def _is_label(column) -> bool:
    return str(column).strip().lstrip("\ufeff") == LABEL


def score_chunk(model: PyFuncModel, raw_leads: pd.DataFrame, model_version: dict) -> pd.DataFrame:
    """Score a chunk of raw leads with the model: one row per input row, in input order.

    The answer's ``attrs`` keep the model input of the scored leads (see the contract's
    ``MODEL_INPUT``), keyed by the same rows, for drift monitoring.
    """
    # A labelled backfill is scored exactly as new leads are; its label only measures the model.
    predictions = model.predict(raw_leads.drop(columns=[c for c in raw_leads if _is_label(c)]))
    if not isinstance(predictions, pd.DataFrame):
        raise ScoringContractError(
            f"The model answered a {type(predictions).__name__}, not a table of scored leads; "
            "nothing was written."
        )
    if len(predictions) != len(raw_leads):
        raise ScoringContractError(
            f"The model answered {len(predictions)} rows for {len(raw_leads)} leads; "
            "nothing was written."
        )
    carried = {key: predictions.attrs.pop(key, None) for key in (MODEL_INPUT, LEAD_LEVELS)}
    for key, frame in carried.items():
        if frame is not None:
            # Keyed as the answer is: by each lead's position in the export.
            frame.index = raw_leads.index[predictions.index.get_indexer(frame.index)]
            predictions.attrs[key] = frame
    # Rows keep their position in the export, so chunks number rows as one batch would.
    predictions.index = raw_leads.index
    predictions[MODEL_VERSION] = model_version["version"]
    return predictions


def answer_rows(chunk: ExportChunk, predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per lead of a chunk: the model's answer, its file line, the export fields that
    follow a scored lead (to the call list, the realised label) and its model input."""
    by_name = {str(c).strip().lstrip("\ufeff").lower(): c for c in chunk.leads.columns}
    parts = [
        predictions,
        pd.DataFrame({LINE: pd.array(chunk.lines, dtype="Int64")}, index=predictions.index),
        pd.DataFrame(
            {
                f"{EXPORT_PREFIX}{field}": chunk.leads[by_name[field]]
                for field in CARRIED_FIELDS
                if field in by_name
            },
            index=predictions.index,
        ),
    ]
    model_input, levels = (predictions.attrs.get(k) for k in (MODEL_INPUT, LEAD_LEVELS))
    if model_input is not None and levels is not None:
        parts += [model_input.add_prefix(MODEL_INPUT_PREFIX), levels.add_prefix(LEVEL_PREFIX)]
    predictions.attrs.clear()
    return pd.concat(parts, axis=1)


def score_export(
    model: PyFuncModel, export: ChunkedLeads, model_version: dict, settings: dict
) -> Iterator[ScoredChunk]:
    """Score an export chunk by chunk: the model's answer for every lead, and the lines read
    that held none."""
    read = 0
    for number, chunk in enumerate(export.read(settings["chunk_rows"])):
        # An export with no lead at all still goes to the model, which says so.
        if len(chunk.leads) or number == 0:
            predictions = score_chunk(model, chunk.leads, model_version)
        else:
            predictions = pd.DataFrame(columns=["status"])
        read += len(chunk.leads) + len(chunk.rejected)
        logger.info("Scored %d leads so far", read)
        yield ScoredChunk(answer_rows(chunk, predictions), chunk.rejected)


def list_scored_leads(chunks: ScoredChunks) -> Iterator[pd.DataFrame]:
    """The scored leads of each chunk, with their reasons, for the sales team."""
    for chunk in chunks.read(is_answer):
        yield scored_leads(chunk.rows)


def list_quarantined_leads(chunks: ScoredChunks) -> Iterator[pd.DataFrame]:
    """The quarantined leads of each chunk with why, and the lines that held no lead."""
    for chunk in chunks.read(lambda c: c in ("status", LEAD_ID, "quarantine_reason", LINE)):
        yield quarantined_leads(chunk.rows, chunk.rejected)


def count_batch(chunks: ScoredChunks) -> dict:
    """Leads read, scored and quarantined, with the label and probabilities of a labelled batch."""
    tally = None
    for chunk in chunks.read(lambda c: c in ("status", "probability", f"{EXPORT_PREFIX}{LABEL}")):
        tally = add_tallies(tally, tally_scored_chunk(chunk))
    return tally or tally_chunk(pd.DataFrame(columns=["status"]))


def tally_scored_chunk(chunk: ScoredChunk) -> dict:
    """The counts of one scored chunk, with its realised label when the export carries one."""
    label = chunk.rows.get(f"{EXPORT_PREFIX}{LABEL}")
    return tally_chunk(chunk.rows, label, len(chunk.rejected))


def tally_chunk(
    predictions: pd.DataFrame, label: pd.Series | None = None, rejected_lines: int = 0
) -> dict:
    """Counts of one chunk, with its label and probabilities when it carries a label.

    Lines the reader rejected (blank, a stray quote, undecodable bytes) count as read and
    quarantined, so every line of the file is accounted for.
    """
    status = predictions["status"]
    tally = {
        "read": len(predictions) + rejected_lines,
        "scored": int((status == SCORED).sum()),
        "quarantined": int((status == QUARANTINED).sum()) + rejected_lines,
        # One array per chunk: the running tally of every chunk shares them, not copies them.
        "labels": [],
        "probabilities": [],
    }
    if label is not None and len(predictions):
        label = parse_numbers(label).to_numpy()
        usable = (status == SCORED).to_numpy() & np.isin(label, [0, 1])
        # A 0/1 label needs one byte, not eight: a labelled batch keeps all of them for its AUC.
        tally["labels"] = [label[usable].astype("int8")]
        tally["probabilities"] = [predictions["probability"].to_numpy(dtype="float64")[usable]]
    return tally


def add_tallies(first: dict | None, second: dict) -> dict:
    """The tally of two chunks together."""
    if first is None:
        return second
    # Counts add up; the lists of label and probability arrays join.
    return {key: first[key] + second[key] for key in second}


def scored_leads(predictions: pd.DataFrame) -> pd.DataFrame:
    """Scored leads with their file line and reasons, in input order."""
    scored = (predictions["status"] == SCORED).to_numpy()
    reasons = [c for c in predictions.columns if c.startswith("reason_")]
    columns = [LEAD_ID, CREATED_DATE, "probability", "score", "tier", *reasons, MODEL_VERSION]
    if not scored.any():
        return pd.DataFrame(columns=[LINE, *columns])
    kept = predictions.loc[scored, columns]
    # Read back from the run's chunk files, a whole score may come back as a float.
    kept["score"] = kept["score"].astype("int64")
    kept.insert(0, LINE, pd.array(predictions.loc[scored, LINE], dtype="Int64"))
    return kept


def quarantined_leads(
    predictions: pd.DataFrame, rejected: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Quarantined leads with why and their file line, and the lines the reader rejected."""
    quarantined = predictions.loc[(predictions["status"] == QUARANTINED).to_numpy()]
    quarantine = pd.DataFrame(
        {
            "row": pd.array(quarantined.index, dtype="Int64"),
            LINE: pd.array(quarantined[LINE], dtype="Int64"),
            LEAD_ID: quarantined[LEAD_ID].to_numpy() if len(quarantined) else [],
            "reason": quarantined["quarantine_reason"].to_numpy() if len(quarantined) else [],
        },
        columns=SCORING_QUARANTINE_COLUMNS,
    )
    if rejected is not None and len(rejected):
        unread = rejected.assign(row=pd.array([pd.NA] * len(rejected), dtype="Int64"))
        unread[LINE] = unread[LINE].astype("Int64")
        quarantine = pd.concat([quarantine, unread[SCORING_QUARANTINE_COLUMNS]], ignore_index=True)
        quarantine = quarantine.sort_values(LINE, kind="stable", ignore_index=True)
    return quarantine


def measure_realised_performance(tally: dict) -> dict:
    """ROC AUC of the scores against the realised label, when the batch carries one."""
    from sklearn.metrics import roc_auc_score

    if not tally["labels"]:
        return {}
    label, probability = np.concatenate(tally["labels"]), np.concatenate(tally["probabilities"])
    metrics = {"labelled_leads": len(label)}
    if len(set(label)) < 2:
        logger.warning(
            "The batch carries %s but not both outcomes among %d scored leads: "
            "no realised ROC AUC.",
            LABEL,
            len(label),
        )
        return as_mlflow_metrics(metrics)
    metrics.update(roc_auc=roc_auc_score(label, probability), completion_rate=label.mean())
    logger.info(
        "Realised ROC AUC %.4f on %d labelled leads (completion rate %.1f%%)",
        metrics["roc_auc"],
        len(label),
        100 * metrics["completion_rate"],
    )
    return as_mlflow_metrics(metrics)


def summarise_batch(tally: dict) -> dict:
    """Count what was read, scored and quarantined, and end the run's log with it."""
    read, scored, quarantined = tally["read"], tally["scored"], tally["quarantined"]
    if scored + quarantined != read:
        raise ScoringContractError(
            f"{read} leads read but {scored} scored and {quarantined} quarantined: the model "
            "returned a status other than 'scored' or 'quarantined'."
        )
    logger.info("%d read, %d scored, %d quarantined", read, scored, quarantined)
    return as_mlflow_metrics(
        {"rows_read": read, "rows_scored": scored, "rows_quarantined": quarantined}
    )
