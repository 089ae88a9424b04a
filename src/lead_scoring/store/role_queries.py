"""The store's queries by scoring role (champion or challenger) and its promotion log.

The shadow challenger (``score_new``) and ``promote`` ask these of the ``LeadStore``.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from lead_scoring.contract import CHALLENGER, CHAMPION, CREATED_DATE, LABEL, LEAD_ID
from lead_scoring.errors import LeadScoringError
from lead_scoring.store import tables
from lead_scoring.store.repository import LeadStore
from lead_scoring.store.tables import CONTENT_HASH, MODEL_NAME, MODEL_VERSION, ROLE

PROMOTION_LOG = tables.promotion_log.name


class NoPromotionLogError(LeadScoringError):
    """The store has no promotion_log table: its migrations have not run."""


def leads_scored_in_shadow(
    store: LeadStore, model_name: str, model_version: str, window_days: float
) -> pd.DataFrame:
    """Stored leads of the recent window that this version scored only as challenger, as they
    stand (same content); the columns of ``LeadStore.leads_to_score``."""
    table, scores = store.leads_table(), tables.scored_leads
    query = (
        sa.select(table)
        .join(scores, scores.c[LEAD_ID] == table.c[LEAD_ID])
        .where(
            scores.c[MODEL_NAME] == model_name,
            scores.c[MODEL_VERSION] == str(model_version),
            scores.c[ROLE] == CHALLENGER,
            scores.c[CONTENT_HASH] == table.c[CONTENT_HASH],
        )
    )
    with store.engine.connect() as connection:
        newest = connection.execute(sa.select(sa.func.max(table.c[CREATED_DATE]))).scalar()
        shadowed = pd.read_sql(query, connection)
    if shadowed.empty or newest is None:
        return shadowed
    created = pd.to_datetime(shadowed[CREATED_DATE], errors="coerce")
    recent = created >= pd.Timestamp(newest) - pd.Timedelta(days=window_days)
    return shadowed.loc[recent].reset_index(drop=True)


def paired_outcomes(
    store: LeadStore, model_name: str, champion_version: str, challenger_version: str
) -> pd.DataFrame:
    """Labelled leads both versions scored in their roles, on the same content: lead_id, label,
    the champion's and the challenger's probability."""
    table, scores = store.leads_table(), tables.scored_leads
    champion, challenger = scores.alias("champion"), scores.alias("challenger")
    query = (
        sa.select(
            table.c[LEAD_ID],
            table.c[LABEL],
            champion.c.probability.label("champion_probability"),
            challenger.c.probability.label("challenger_probability"),
        )
        .join(champion, champion.c[LEAD_ID] == table.c[LEAD_ID])
        .join(challenger, challenger.c[LEAD_ID] == table.c[LEAD_ID])
        .where(
            table.c[LABEL].is_not(None),
            champion.c[MODEL_NAME] == model_name,
            champion.c[MODEL_VERSION] == str(champion_version),
            champion.c[ROLE] == CHAMPION,
            challenger.c[MODEL_NAME] == model_name,
            challenger.c[MODEL_VERSION] == str(challenger_version),
            challenger.c[ROLE] == CHALLENGER,
            # Both scored the lead as it stands: a lead edited between the two is not paired.
            champion.c[CONTENT_HASH] == challenger.c[CONTENT_HASH],
        )
        .order_by(table.c[LEAD_ID])
    )
    with store.engine.connect() as connection:
        return pd.read_sql(query, connection)


def check_promotion_log(store: LeadStore) -> None:
    """Stop with one line when the store has no ``promotion_log`` to keep a decision in."""
    if not sa.inspect(store.engine).has_table(PROMOTION_LOG):
        raise NoPromotionLogError(
            f"The lead store at {store.describe} has no "
            f"{PROMOTION_LOG} table: upgrade it with its migrations (docs/operations.md) before "
            "running promote. Nothing was decided."
        )


def record_promotion(store: LeadStore, decision: dict) -> int:
    """Append one decision to ``promotion_log`` (``check_promotion_log`` first); its decision_id."""
    table = tables.promotion_log
    with store.engine.begin() as connection:
        row = {c.name: decision.get(c.name) for c in table.columns if c.name != "decision_id"}
        inserted = connection.execute(sa.insert(table), row).inserted_primary_key
    return int(inserted[0]) if inserted else 0


def promotion_log(store: LeadStore) -> pd.DataFrame:
    """Every promote decision, oldest first."""
    table = tables.promotion_log
    with store.engine.connect() as connection:
        return pd.read_sql(sa.select(table).order_by(table.c.decision_id), connection)
