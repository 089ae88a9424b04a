"""The project's contract: names every stage shares, spelled once.

The raw export's columns, the index column real exports carry, the tiers a lead can get, the
status of an output row, the quarantine's columns, the registered model's name and the city-tier
rule. Every stage imports them from here; a stage never reaches into another for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# --- the raw export -------------------------------------------------------------------------

CREATED_DATE = "created_date"
CITY = "city_mapped"
PLATFORM = "first_platform_c"
MEDIUM = "first_utm_medium_c"
SOURCE = "first_utm_source_c"
LEADS_DROPPED = "total_leads_droppped"  # three p's, as the exports spell it
REFERRED = "referred_lead"
LABEL = "app_complete_flag"

LEVEL_COLUMNS = (PLATFORM, MEDIUM, SOURCE)
ORIGIN_COLUMNS = (CREATED_DATE, CITY, *LEVEL_COLUMNS, LEADS_DROPPED, REFERRED)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
LEVEL_PATTERN = r"^Level\d+$"

# Real exports lead with an unnamed index column (an empty header, which pandas reads as
# ``Unnamed: 0``); it is the lead's identifier, not data.
INDEX_COLUMN = "Unnamed: 0"
# The identifier every output carries: the export's index column where it has one.
LEAD_ID = "lead_id"
# An export without an id column keys each lead by what identifies it in the export: its creation
# time and origin fields. Pandas' unnamed index is a row number, never an id across files.
KEY_COLUMNS = ORIGIN_COLUMNS
NATURAL_KEY_PREFIX = "k"


def natural_lead_keys(leads: pd.DataFrame) -> pd.Series:
    """Each lead's key from its ``KEY_COLUMNS`` as normalised text: equal fields, equal key."""
    import hashlib

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


def city_tier(cities: pd.Series, city_tiers: pd.DataFrame, default_tier: int) -> np.ndarray:
    """Each city's tier from the reference table; a city it does not list gets the default."""
    found = pd.Index(city_tiers["city"]).get_indexer(cities)
    tiers = city_tiers["tier"].to_numpy()
    return np.where(found >= 0, tiers[found], default_tier).astype("int8")
