"""The call list a sales rep opens: every scored lead with its origin, best score first."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from lead_scoring.contract import CREATED_DATE, LEAD_ID, LEADS_DROPPED, LINE, REFERRED, SCORED
from lead_scoring.datasets.scored_chunks_dataset import EXPORT_PREFIX, ScoredChunks
from lead_scoring.pipelines.batch_scoring.nodes import ORIGIN_FIELDS, is_answer

CALL_LIST_LAST = [LEAD_ID, CREATED_DATE, "probability"]


def list_calls(chunks: ScoredChunks) -> Iterator[pd.DataFrame]:
    """The call-list rows of each chunk; the call list dataset sorts them by score."""
    origin = [f"{EXPORT_PREFIX}{field}" for field in ORIGIN_FIELDS]
    for chunk in chunks.read(lambda c: is_answer(c) or c in origin):
        yield call_list_rows(chunk.rows)


def call_list_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The scored leads of a chunk with the origin fields of their export rows, as text."""
    scored = rows.loc[(rows["status"] == SCORED).to_numpy()]
    origin = pd.DataFrame(
        {field: scored.get(f"{EXPORT_PREFIX}{field}") for field in ORIGIN_FIELDS},
        index=scored.index,
    )
    # Exports write counts as 2.0; a rep reads 2. Scored rows passed validation, so they parse.
    for field in (LEADS_DROPPED, REFERRED):
        counts = pd.to_numeric(origin[field], errors="coerce").round()
        origin[field] = counts.astype("Int64").astype("string")
    reasons = [c for c in scored.columns if c.startswith("reason_")]
    last = [*CALL_LIST_LAST, *([LINE] if LINE in scored else [])]
    head = scored[["score", "tier", *reasons]].astype({"score": "int64"})
    return pd.concat([head, origin, scored[last]], axis=1)
