"""The project's contract: names every stage shares, spelled once.

The raw export's columns, the index column real exports carry, the tiers a lead can get, the
status of an output row, the quarantine's columns, the registered model's name and the city-tier
rule. Every stage imports them from here; a stage never reaches into another for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lead_scoring.frames import column_array

# --- the raw export -------------------------------------------------------------------------

CREATED_DATE = "created_date"
CITY = "city_mapped"
PLATFORM = "first_platform_c"
MEDIUM = "first_utm_medium_c"
SOURCE = "first_utm_source_c"
LEADS_DROPPED = "total_leads_droppped"  # three p's, as the exports spell it
REFERRED = "referred_lead"
LABEL = "app_complete_flag"
# Every field of a read export: pandas' default text type, held in Arrow.
EXPORT_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)

LEVEL_COLUMNS = (PLATFORM, MEDIUM, SOURCE)
ORIGIN_COLUMNS = (CREATED_DATE, CITY, *LEVEL_COLUMNS, LEADS_DROPPED, REFERRED)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
LEVEL_PATTERN = r"^Level\d+$"

# Real exports lead with an unnamed index column (an empty header, which pandas reads as
# ``Unnamed: 0``): pandas' row number, restarting at 0 in every file. Batch scoring and serving
# name their output rows by it; it is never a lead's key in the store.
INDEX_COLUMN = "Unnamed: 0"
# The identifier every output carries: the export's explicit id column when it has one (a CRM's
# ``lead_id``), else its index column, else the row number.
LEAD_ID = "lead_id"
# The store keys a lead by its explicit id; an export without one, by what identifies a lead in
# it: its creation time and origin. Measured on the real export (24,991 rows, 8 of them exact
# repeats of another row: 24,983 distinct leads) and the labelled sample (100 leads): the
# creation time alone is shared by 48 pairs of distinct leads, with the city by 1 pair, with
# the three levels by 16 pairs; with the city and the three levels by none, in both files. The
# lead's counts (courses checked, referral, clicks) are left out: they grow as the person comes
# back, and a lead re-delivered with more clicks is the same lead, updated.
KEY_COLUMNS = (CREATED_DATE, CITY, *LEVEL_COLUMNS)
NATURAL_KEY_PREFIX = "k"


def natural_lead_keys(leads: pd.DataFrame) -> pd.Series:
    """Each lead's key from its normalised ``KEY_COLUMNS``: equal fields, equal key.

    ``leads`` as ``normalise_raw_leads`` gives them (stripped, city lower case, levels spelt
    ``LevelN``), so spelling and pandas' index do not change a lead's key.
    """
    text = leads[list(KEY_COLUMNS)].astype("object")
    text = text.where(text.notna(), "").astype("str")
    joined = text.iloc[:, 0].str.cat(text.iloc[:, 1:], sep="\x1f")
    return pd.Series(
        [NATURAL_KEY_PREFIX + hashlib.sha1(v.encode("utf-8")).hexdigest()[:20] for v in joined],
        index=leads.index,
        dtype="object",
    )


# A row's 0-based position among the export's leads, and the file line its record starts on
# (the header is line 1): every output row can be traced back to the file.
SOURCE_ROW = "row"
LINE = "line"


def raw_columns(interaction_columns: Sequence[str], with_label: bool) -> list[str]:
    """The export's data columns in their documented order."""
    return [*ORIGIN_COLUMNS, *interaction_columns, *([LABEL] if with_label else [])]


# --- what scoring gives a lead --------------------------------------------------------------

HOT, WARM, COLD = "hot", "warm", "cold"
TIERS = (HOT, WARM, COLD)

# Every input row comes back with one of these statuses.
SCORED = "scored"
QUARANTINED = "quarantined"

# The model's answer also carries, in ``answer.attrs`` and so outside the served JSON, what
# drift monitoring needs of the leads it scored: their features as the model built them, and
# their own category levels before rare ones fold (scoring's ``attach_model_input``).
MODEL_INPUT = "model_input"
LEAD_LEVELS = "lead_levels"

# A quarantined row: where it came from, which column broke which rule, with what value, and why.
QUARANTINE_COLUMNS = [SOURCE_ROW, LEAD_ID, "column", "rule", "value", "reason"]
# The rule a quarantined row breaks when a required cell is empty.
REQUIRED_RULE = "required value"
# A batch scoring run's quarantine: each lead the model set aside, and each line that held none.
SCORING_QUARANTINE_COLUMNS = [SOURCE_ROW, LINE, LEAD_ID, "reason"]

# --- the registry ---------------------------------------------------------------------------

REGISTERED_MODEL_NAME = "lead_scoring"
CHAMPION = "champion"
CHALLENGER = "challenger"

# --- business rules -------------------------------------------------------------------------


def city_tier(cities, city_tiers: pd.DataFrame, default_tier: int) -> np.ndarray:
    """Each city's tier from the reference table; a city it does not list gets the default.

    ``cities`` is a Series or its array, already lower case.
    """
    names = column_array(city_tiers, "city")
    tiers = np.asarray(column_array(city_tiers, "tier"))
    values = cities.array if isinstance(cities, pd.Series) else cities
    known, cells = _arrow_text(names), _arrow_text(values)
    if known is not None and cells is not None:
        unique = pc.count_distinct(known, mode="all").as_py() == len(known)
        # One Arrow hash lookup of the table's own text: pandas built an index of the table's
        # names and converted a served lead's text to its type, 0.35 of 0.4 ms a call.
        found = pc.index_in(cells, value_set=known.cast(cells.type))
        found = pc.coalesce(found, _NOT_LISTED).to_numpy(zero_copy_only=False)
    else:
        listed = pd.Index(names)
        unique = listed.is_unique
        found = listed.get_indexer(pd.Index(np.asarray(values, dtype=object))) if unique else None
    if not unique:
        raise ValueError("city_tiers lists a city twice: which tier applies is unclear.")
    return np.where(found >= 0, tiers[found], default_tier).astype("int8")


# A scalar of the lookup's own type: ``pc.fill_null`` builds one on every call (5 of 10 us).
_NOT_LISTED = pa.scalar(-1, pa.int32())


def _arrow_text(values) -> pa.Array | None:
    """Text cells as one Arrow array (pandas' Arrow text without a copy); None if not text."""
    try:
        cells = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    if pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type):
        return cells
    return None
