"""Every query realised_performance asks of the lead store, on the store's own tables."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pandas as pd
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy.engine import Engine

from lead_scoring.contract import CHAMPION, CITY, CREATED_DATE, LABEL, LEAD_ID, LEVEL_COLUMNS
from lead_scoring.store import LeadStore
from lead_scoring.store.repository import describe_url, records, upsert
from lead_scoring.store.tables import MODEL_NAME, MODEL_VERSION, ROLE, leads, scored_leads
from lead_scoring.store.tables import realised_performance as realised_table

PERIOD = "period"
# The key of a row of ``realised_performance``: one measurement of a version in a role and month
# (model_name, model_version, role, period), as the store's table defines it.
REALISED_KEY = [column.name for column in realised_table.primary_key]
# The lead's fields a segment is cut on.
SEGMENT_FIELDS = [CITY, *LEVEL_COLUMNS]


def labelled_scores(engine: Engine) -> pd.DataFrame:
    """Each version's latest score of every lead whose outcome is known, with the lead's fields."""
    scores = scored_leads
    ranked = sa.select(
        *(scores.c[c] for c in (LEAD_ID, MODEL_NAME, MODEL_VERSION, "scored_at")),
        # The upgrade gives older scores the champion's role; a score written with no role is
        # the champion's too, as the store's own queries read it (never dropped from a group).
        sa.func.coalesce(scores.c[ROLE], CHAMPION).label(ROLE),
        scores.c.probability,
        scores.c.tier,
        sa.func.row_number()
        .over(
            partition_by=[scores.c[LEAD_ID], scores.c[MODEL_NAME], scores.c[MODEL_VERSION]],
            order_by=scores.c.scored_at.desc(),
        )
        .label("newest_first"),
    ).subquery()
    query = (
        sa.select(
            *(ranked.c[c] for c in (LEAD_ID, MODEL_NAME, MODEL_VERSION, ROLE, "scored_at")),
            ranked.c.probability,
            ranked.c.tier,
            *(leads.c[c] for c in (CREATED_DATE, *SEGMENT_FIELDS, LABEL)),
        )
        .join(leads, leads.c[LEAD_ID] == ranked.c[LEAD_ID])
        .where(ranked.c.newest_first == 1, leads.c[LABEL].is_not(None))
        .order_by(ranked.c[MODEL_NAME], ranked.c[MODEL_VERSION], ranked.c[LEAD_ID])
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    return frame.astype({LABEL: "int64", "probability": "float64", MODEL_VERSION: "str"})


def latest_champion(engine: Engine) -> dict[str, str] | None:
    """The model name and version that scored a lead as champion most recently, if any did."""
    scores = scored_leads
    query = (
        sa.select(scores.c[MODEL_NAME], scores.c[MODEL_VERSION])
        .where(scores.c[ROLE] == CHAMPION)
        .order_by(scores.c.scored_at.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else {"name": str(row[0]), "version": str(row[1])}


class RealisedPerformanceDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The store's ``realised_performance`` table: a save upserts rows by key in one transaction,
    a load reads the whole table back (so a node after the save sees what was stored).

    It never upgrades the store (``lead_store``, loaded by the run's first node, does, with
    ``auto_upgrade``): on a store of an older schema it stops in the store's one line.
    """

    def __init__(self, *, url: str, metadata: dict[str, Any] | None = None) -> None:
        self._url = url
        self.metadata = metadata

    @cached_property
    def engine(self) -> Engine:
        return LeadStore(self._url, upgrade=False).engine

    def load(self) -> pd.DataFrame:
        key = (realised_table.c[c] for c in REALISED_KEY)
        with self.engine.connect() as connection:
            frame = pd.read_sql(sa.select(realised_table).order_by(*key), connection)
        return frame.astype({MODEL_VERSION: "str"})

    def save(self, data: pd.DataFrame) -> None:
        engine = self.engine
        try:
            with engine.begin() as connection:
                upsert(connection, realised_table, records(data))
        except sa.exc.SQLAlchemyError as error:
            raise DatasetError(
                f"The lead store at {describe_url(self._url)} refused the realised performance "
                f"rows, so none was stored: {str(error).splitlines()[0]}"
            ) from error

    def _describe(self) -> dict[str, Any]:
        return {"url": describe_url(self._url)}
