"""The call list a sales rep opens: every scored lead with its origin, best score first."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pandas as pd

from lead_scoring.contract import (
    CITY,
    CREATED_DATE,
    LEAD_ID,
    LEADS_DROPPED,
    LINE,
    MEDIUM,
    PLATFORM,
    REFERRED,
    SOURCE,
)
from lead_scoring.datasets import LeadExport

ORIGIN_FIELDS = [CITY, PLATFORM, MEDIUM, SOURCE, LEADS_DROPPED, REFERRED]
CALL_LIST_LAST = [LEAD_ID, CREATED_DATE, "probability"]
# The file line a lead's record starts on, when the reader numbered them.


def call_list_rows(raw_chunk: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """The scored leads of a chunk with the origin fields of their export rows, as text."""
    by_name = {str(column).strip().lstrip("\ufeff").lower(): column for column in raw_chunk}
    origin = pd.DataFrame(index=scored.index)
    for field in ORIGIN_FIELDS:
        source = by_name.get(field)
        origin[field] = raw_chunk.loc[scored.index, source] if source is not None else None
    # Exports write counts as 2.0; a rep reads 2. Scored rows passed validation, so they parse.
    for field in (LEADS_DROPPED, REFERRED):
        counts = pd.to_numeric(origin[field], errors="coerce").round()
        origin[field] = counts.astype("Int64").astype("string")
    reasons = [c for c in scored.columns if c.startswith("reason_")]
    last = [*CALL_LIST_LAST, *([LINE] if LINE in scored else [])]
    return pd.concat([scored[["score", "tier", *reasons]], origin, scored[last]], axis=1)


class _RememberingExport:
    """An export whose last chunk read stays at hand, for the rows scored from it."""

    def __init__(self, export: LeadExport) -> None:
        self._export = export
        self.last: pd.DataFrame | None = None

    def __getattr__(self, name: str):
        return getattr(self._export, name)

    def read(self, rows: int) -> Iterator:
        """The export's chunks (leads, their lines, rejected lines), each remembered as read."""
        for chunk in self._export.read(rows):
            self.last = chunk.leads
            yield chunk

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        for chunk in self._export.chunks(rows):
            self.last = chunk
            yield chunk


def with_call_list(
    score_in_chunks: Callable[..., Iterator[tuple]],
) -> Callable[..., Iterator[tuple]]:
    """``score_in_chunks``, each chunk's outputs followed by the chunk's call-list rows.

    The scoring node yields a chunk's outputs right after reading it, so the chunk it scored is
    the export's last one read; its rows are joined by position, not re-read from the file.
    """

    @functools.wraps(score_in_chunks)
    def chunks(model, export, *args, **kwargs) -> Iterator[tuple]:
        remembered = _RememberingExport(export)
        for scored, *rest in score_in_chunks(model, remembered, *args, **kwargs):
            yield (scored, *rest, call_list_rows(remembered.last, scored))

    return chunks
