"""Ingestion: bring a raw export, as read, to the documented columns and a clean text form."""

from __future__ import annotations

import logging
import re

import pandas as pd

from lead_scoring.pipelines.validation.schemas import (
    CITY,
    LABEL,
    LEAD_ID,
    LEVEL_COLUMNS,
    ORIGIN_COLUMNS,
    UNKNOWN_COLUMNS,
)

logger = logging.getLogger(__name__)

_LEVEL_SPELLING = re.compile(r"(?i)^level\s*(\d+)$")


def _as_text(column: pd.Series) -> pd.Series:
    """Cells as stripped text; blank cells become missing."""
    text = column if pd.api.types.is_string_dtype(column) else column.astype("str")
    present = text.notna()
    if not present.any():
        return text
    # Stripping is the common case of a clean export; blanks become missing.
    text = text.str.strip()
    return text.mask(text == "")


def _canonical_levels(levels: pd.Series) -> pd.Series:
    """``level7`` or ``LEVEL 7`` as ``Level7``; only the odd spellings pay for the regex."""
    odd = levels.notna() & ~levels.str.fullmatch(r"Level\d+").fillna(False)
    if not odd.any():
        return levels
    fixed = levels.copy()
    fixed[odd] = levels[odd].str.replace(_LEVEL_SPELLING, r"Level\1", regex=True)
    return fixed


def normalise_raw_leads(
    raw: pd.DataFrame, interaction_mapping: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """Keep the export's known columns as stripped text, with a lead id and canonical spelling."""
    # A chunk of a large export is indexed by its rows' positions in the export.
    positions = raw.index if isinstance(raw.index, pd.RangeIndex) else pd.RangeIndex(len(raw))
    raw = raw.reset_index(drop=True).rename(columns=lambda name: str(name).strip().lstrip("\ufeff"))
    raw = raw.rename(columns={"": params["index_column"]})
    known = [*ORIGIN_COLUMNS, *interaction_mapping["interaction_type"], LABEL]
    extra = [c for c in raw.columns if c not in known and c != params["index_column"]]
    if extra:
        logger.warning("Ignoring %d unknown column(s): %s", len(extra), ", ".join(extra[:10]))

    leads = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    if params["index_column"] in raw.columns:
        leads[LEAD_ID] = _as_text(raw[params["index_column"]])
    else:
        # Without the export's index, the 0-based row number identifies a lead.
        leads[LEAD_ID] = positions.astype("str")
    for column in known:
        if column in raw.columns:
            leads[column] = _as_text(raw[column])
    if CITY in leads:
        leads[CITY] = leads[CITY].str.lower()
    for level in LEVEL_COLUMNS:
        if level in leads:
            leads[level] = _canonical_levels(leads[level])
    # Validation names them when a required column is missing: often it is one of these, misspelt.
    leads.attrs[UNKNOWN_COLUMNS] = extra
    return leads
