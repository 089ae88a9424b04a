"""Every query realised_performance asks of the lead store, in one place.

The store owns the tables (``scored_leads`` with its ``role``, ``realised_performance``; see the
store's migrations): this module reflects them and never creates one, so the store package can
take these functions over as they stand. Reads and writes are SQLAlchemy Core, which SQLite and
PostgreSQL both run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url

from lead_scoring.contract import CHAMPION, CITY, CREATED_DATE, LABEL, LEAD_ID, LEVEL_COLUMNS
from lead_scoring.errors import LeadScoringError

MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
ROLE = "role"
PERIOD = "period"
REALISED_TABLE = "realised_performance"
# The key of a row of ``realised_performance``: one measurement of a version in a role and month.
REALISED_KEY = [MODEL_NAME, MODEL_VERSION, ROLE, PERIOD]
# The lead's fields a segment is cut on, when the store keeps them.
SEGMENT_FIELDS = [CITY, *LEVEL_COLUMNS]
LABELLED_SCORE_COLUMNS = [
    LEAD_ID,
    MODEL_NAME,
    MODEL_VERSION,
    ROLE,
    "scored_at",
    "probability",
    "tier",
    CREATED_DATE,
    *SEGMENT_FIELDS,
    LABEL,
]


class StoreSchemaError(LeadScoringError):
    """The lead store lacks a table or column this pipeline reads or writes."""


def _reflect(engine: Engine, name: str, columns: tuple[str, ...] = ()) -> sa.Table | None:
    """The stored table ``name`` (None when absent); its ``columns`` must be there."""
    if not sa.inspect(engine).has_table(name):
        return None
    table = sa.Table(name, sa.MetaData(), autoload_with=engine)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise StoreSchemaError(
            f"The lead store at {_where(engine)} has a table {name} without the column(s) "
            f"{', '.join(missing)} (rule: the store's current schema, e.g. scored_leads.role). "
            "Upgrade the store with its migrations, then run again."
        )
    return table


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _required(engine: Engine, name: str, columns: tuple[str, ...] = ()) -> sa.Table:
    table = _reflect(engine, name, columns)
    if table is None:
        raise StoreSchemaError(
            f"The lead store at {_where(engine)} has no table {name} (rule: the store's current "
            "schema). Upgrade the store with its migrations, then run again."
        )
    return table


def labelled_scores(engine: Engine) -> pd.DataFrame:
    """Each version's latest score of every lead whose outcome is known, with the lead's fields.

    One row per lead and model version (the latest ``scored_at`` when a version scored a lead
    more than once), carrying the role it scored in then, the lead's ``created_date``, segment
    fields and ``app_complete_flag``.
    """
    scores = _required(engine, "scored_leads", (ROLE,))
    leads = _reflect(engine, "leads", (LABEL, CREATED_DATE))
    if leads is None:
        return pd.DataFrame(columns=LABELLED_SCORE_COLUMNS)
    ranked = sa.select(
        *(scores.c[c] for c in (LEAD_ID, MODEL_NAME, MODEL_VERSION, "scored_at")),
        # A score from before roles were recorded was the champion's, as the migration says.
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
    fields = [leads.c[c] for c in SEGMENT_FIELDS if c in leads.columns]
    query = (
        sa.select(
            *(ranked.c[c] for c in (LEAD_ID, MODEL_NAME, MODEL_VERSION, ROLE, "scored_at")),
            ranked.c.probability,
            ranked.c.tier,
            leads.c[CREATED_DATE],
            *fields,
            leads.c[LABEL],
        )
        .join(leads, leads.c[LEAD_ID] == ranked.c[LEAD_ID])
        .where(ranked.c.newest_first == 1, leads.c[LABEL].is_not(None))
        .order_by(ranked.c[MODEL_NAME], ranked.c[MODEL_VERSION], ranked.c[LEAD_ID])
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    frame = frame.reindex(columns=LABELLED_SCORE_COLUMNS)
    return frame.astype({LABEL: "int64", "probability": "float64", MODEL_VERSION: "str"})


def latest_champion(engine: Engine) -> dict[str, str] | None:
    """The model name and version that scored a lead as champion most recently, if any did."""
    scores = _required(engine, "scored_leads", (ROLE,))
    query = (
        sa.select(scores.c[MODEL_NAME], scores.c[MODEL_VERSION])
        .where(scores.c[ROLE] == CHAMPION)
        .order_by(scores.c.scored_at.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else {"name": str(row[0]), "version": str(row[1])}


def upsert_realised_performance(engine: Engine, rows: pd.DataFrame) -> None:
    """Insert or replace the rows of ``realised_performance`` by their key, in one transaction."""
    table = _required(engine, REALISED_TABLE, tuple(rows.columns))
    records = [
        {c: None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for c, v in row.items()}
        for row in rows.astype("object").to_dict("records")
    ]
    if not records:
        return
    with engine.begin() as connection:
        dialect = connection.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise StoreSchemaError(f"The lead store supports SQLite and PostgreSQL, not {dialect}.")
        insert = (sqlite if dialect == "sqlite" else postgresql).insert(table)
        changed = {c: insert.excluded[c] for c in rows.columns if c not in REALISED_KEY}
        connection.execute(
            insert.on_conflict_do_update(index_elements=REALISED_KEY, set_=changed), records
        )


def stored_realised_performance(engine: Engine) -> pd.DataFrame:
    """The whole ``realised_performance`` table, by model, version, role and period."""
    table = _required(engine, REALISED_TABLE)
    with engine.connect() as connection:
        frame = pd.read_sql(
            sa.select(table).order_by(*(table.c[c] for c in REALISED_KEY)), connection
        )
    return frame.astype({MODEL_VERSION: "str"})


class RealisedPerformanceDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The store's ``realised_performance`` table: a save upserts rows by key in one transaction,
    a load reads the whole table back (so a node after the save sees what was stored)."""

    def __init__(self, *, url: str, metadata: dict[str, Any] | None = None) -> None:
        self._url = url
        self.metadata = metadata
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = sa.create_engine(self._url)
        return self._engine

    def load(self) -> pd.DataFrame:
        return stored_realised_performance(self.engine)

    def save(self, data: pd.DataFrame) -> None:
        try:
            upsert_realised_performance(self.engine, data)
        except sa.exc.SQLAlchemyError as error:
            raise DatasetError(
                f"The lead store at {self._describe()['url']} refused the realised performance "
                f"rows, so none was stored: {str(error).splitlines()[0]}"
            ) from error

    def _describe(self) -> dict[str, Any]:
        return {"url": make_url(self._url).render_as_string(hide_password=True)}
