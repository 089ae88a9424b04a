"""The lead store: every ingested lead once, its quarantine, its scores and the runs' logs.

One SQLAlchemy URL locates it: SQLite by default, PostgreSQL in production (docs/operations.md).
Every write is one transaction of idempotent upserts (``INSERT ... ON CONFLICT``), so a killed
run leaves the store as it was and a repeated run changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from lead_scoring.contract import CHAMPION, CREATED_DATE, LABEL, LEAD_ID, QUARANTINE_COLUMNS

logger = logging.getLogger(__name__)

# SQLite's oldest limit on bound parameters per statement is 999.
_IDS_PER_QUERY = 900
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
CONTENT_HASH = "content_hash"
SOURCE_FILE = "source_file"
ROLE = "role"
SCORE_COLUMNS = ["probability", "score", "tier", "reason_1", "reason_2", "reason_3"]
# Columns of ``leads`` the store keeps about a lead, besides the export's own fields.
BOOKKEEPING_COLUMNS = [LABEL, CONTENT_HASH, SOURCE_FILE, "ingested_at", "updated_at", "labelled_at"]


def now_utc() -> str:
    """The current time as the store writes it: ISO 8601 in UTC, to the second."""
    return pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")


def content_hashes(fields: pd.DataFrame) -> pd.Series:
    """A fingerprint of each lead's fields: equal fields, equal hash, whatever the file."""
    if fields.empty:
        return pd.Series([], index=fields.index, dtype="object")
    text = fields.astype("object").where(fields.notna(), "\x00").astype("str")
    joined = text.iloc[:, 0].str.cat(text.iloc[:, 1:], sep="\x1f")
    return pd.Series(
        [hashlib.sha1(value.encode("utf-8")).hexdigest() for value in joined],
        index=fields.index,
        dtype="object",
    )


def _python(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of Python values, missing ones None, as the database driver wants."""
    columns = list(frame.columns)
    return [
        {name: _python(value) for name, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _chunks(values: Sequence, size: int = _IDS_PER_QUERY) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class LeadFile:
    """What ingest read from one landing file, ready for the store."""

    source_file: str
    file_hash: str
    rows_read: int
    # The valid leads: lead_id and the export's fields as normalised text, label when present.
    leads: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Failed rows, QUARANTINE_COLUMNS.
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    # An outcome export's lead_id and label.
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class ScoreBatch:
    """One score_new run: the scores, the leads the model quarantined and the run's log row."""

    scores: pd.DataFrame
    quarantine: pd.DataFrame
    # None when the run had nothing to score: no run row is logged.
    run: dict[str, Any] | None


class LeadStore:
    """The store's tables and the queries the pipelines ask of it."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        database = parsed.database
        if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url)
        self.metadata = sa.MetaData()
        self._define_fixed_tables()
        self.metadata.create_all(self.engine)

    def _define_fixed_tables(self) -> None:
        text, number = sa.Text, sa.Float
        sa.Table(
            "quarantined_leads",
            self.metadata,
            sa.Column(SOURCE_FILE, text, primary_key=True),
            sa.Column("row", sa.BigInteger, primary_key=True),
            sa.Column(LEAD_ID, text),
            sa.Column("column", text),
            sa.Column("rule", text),
            sa.Column("value", text),
            sa.Column("reason", text),
            sa.Column("ingested_at", text),
        )
        sa.Table(
            "scored_leads",
            self.metadata,
            sa.Column(LEAD_ID, text, primary_key=True),
            sa.Column(MODEL_NAME, text, primary_key=True),
            sa.Column(MODEL_VERSION, text, primary_key=True),
            sa.Column("scored_at", text),
            sa.Column("probability", number),
            sa.Column("score", sa.Integer),
            sa.Column("tier", text),
            *(sa.Column(f"reason_{k}", text) for k in (1, 2, 3)),
            sa.Column(CREATED_DATE, text),
            sa.Column(CONTENT_HASH, text),
            sa.Column("run_id", text),
            # champion or challenger, as the version's alias was when it scored.
            sa.Column(ROLE, text),
        )
        sa.Table(
            "lead_changes",
            self.metadata,
            sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column(LEAD_ID, text, index=True),
            sa.Column("changed_at", text),
            sa.Column(SOURCE_FILE, text),
            sa.Column("previous_source_file", text),
            sa.Column("changed_columns", text),
            # The changed fields' previous values, as JSON.
            sa.Column("previous_values", text),
            sa.Column("previous_hash", text),
            sa.Column(CONTENT_HASH, text),
        )
        sa.Table(
            "ingest_log",
            self.metadata,
            sa.Column(SOURCE_FILE, text, primary_key=True),
            sa.Column("file_hash", text),
            sa.Column("kind", text),
            sa.Column("ingested_at", text),
            *(
                sa.Column(name, sa.Integer)
                for name in (
                    "rows_read",
                    "leads_new",
                    "leads_updated",
                    "leads_unchanged",
                    "quarantined",
                    "labels_filled",
                )
            ),
        )
        sa.Table(
            "score_log",
            self.metadata,
            sa.Column("run_id", text, primary_key=True),
            sa.Column("scored_at", text),
            sa.Column(MODEL_NAME, text),
            sa.Column(MODEL_VERSION, text),
            *(
                sa.Column(name, sa.Integer)
                for name in ("leads_selected", "leads_scored", "leads_quarantined", "rescored")
            ),
            *(sa.Column(f"{tier}_share", number) for tier in ("hot", "warm", "cold")),
            sa.Column("max_psi", number),
            sa.Column("drifting_features", text),
            sa.Column(ROLE, text),
        )

    # --- the leads table: the export's fields, known once the first file arrives -------------

    def leads_table(self, fields: Sequence[str] | None = None) -> sa.Table | None:
        """The ``leads`` table; created with ``fields`` as text columns when it does not exist."""
        if "leads" in self.metadata.tables:
            return self.metadata.tables["leads"]
        if sa.inspect(self.engine).has_table("leads"):
            return sa.Table("leads", self.metadata, autoload_with=self.engine)
        if fields is None:
            return None
        table = sa.Table(
            "leads",
            self.metadata,
            sa.Column(LEAD_ID, sa.Text, primary_key=True),
            *(sa.Column(name, sa.Text, index=name == CREATED_DATE) for name in fields),
            sa.Column(LABEL, sa.Integer),
            *(sa.Column(name, sa.Text) for name in BOOKKEEPING_COLUMNS[1:]),
        )
        table.create(self.engine, checkfirst=True)
        return table

    def field_columns(self) -> list[str]:
        """The export's fields the store keeps for each lead, in export order."""
        table = self.leads_table()
        if table is None:
            return []
        return [c.name for c in table.columns if c.name not in (LEAD_ID, *BOOKKEEPING_COLUMNS)]

    def table(self, name: str) -> pd.DataFrame:
        """A whole table as a frame (tests, notebooks and summaries)."""
        if name == "leads" and self.leads_table() is None:
            return pd.DataFrame(columns=[LEAD_ID])
        with self.engine.connect() as connection:
            return pd.read_sql_table(name, connection)

    def count(self, name: str) -> int:
        """Rows in a table."""
        if name == "leads" and self.leads_table() is None:
            return 0
        with self.engine.connect() as connection:
            table = self.metadata.tables[name]
            return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def ingested_files(self) -> dict[str, str]:
        """Each ingested file's name and content hash."""
        log = self.metadata.tables["ingest_log"]
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(log.c[SOURCE_FILE], log.c.file_hash)).all()
        return dict(rows)

    # --- writes ---------------------------------------------------------------------------------

    def _upsert(self, connection, table: sa.Table, rows: list[dict]) -> None:
        """``INSERT ... ON CONFLICT (primary key) DO UPDATE`` of the columns the rows carry."""
        if not rows:
            return
        dialect = connection.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise DatasetError(f"The lead store supports SQLite and PostgreSQL, not {dialect}.")
        insert = (sqlite if dialect == "sqlite" else postgresql).insert(table)
        keys = [c.name for c in table.primary_key.columns]
        changed = {c: insert.excluded[c] for c in rows[0] if c not in keys}
        connection.execute(insert.on_conflict_do_update(index_elements=keys, set_=changed), rows)

    def _stored_leads(self, connection, table: sa.Table, lead_ids: Sequence[str]) -> pd.DataFrame:
        frames = [
            pd.read_sql(sa.select(table).where(table.c[LEAD_ID].in_(list(ids))), connection)
            for ids in _chunks(list(lead_ids))
        ]
        frames = [frame for frame in frames if len(frame)]
        if not frames:
            return pd.DataFrame(columns=[c.name for c in table.columns])
        return pd.concat(frames, ignore_index=True)

    def write_ingest(self, files: Sequence[LeadFile]) -> list[dict[str, Any]]:
        """Store every file's leads, outcomes and quarantine in one transaction; their counts."""
        fields = next((list(f.leads.columns) for f in files if len(f.leads.columns)), None)
        fields = [c for c in fields or [] if c not in (LEAD_ID, LABEL)]
        table = self.leads_table(fields or None)
        logs = []
        with self.engine.begin() as connection:
            for lead_file in files:
                at = now_utc()
                counts = {"leads_new": 0, "leads_updated": 0, "leads_unchanged": 0}
                counts["labels_filled"] = 0
                quarantine = lead_file.quarantine
                if len(lead_file.leads):
                    counts.update(self._store_leads(connection, table, lead_file, at))
                if len(lead_file.outcomes):
                    filled, unknown = self._store_outcomes(connection, table, lead_file, at)
                    counts["labels_filled"] += filled
                    counts["leads_unchanged"] += len(lead_file.outcomes) - filled - len(unknown)
                    parts = [q for q in (quarantine, unknown) if len(q)]
                    quarantine = pd.concat(parts) if parts else unknown
                if len(quarantine):
                    rows = quarantine[QUARANTINE_COLUMNS].assign(
                        source_file=lead_file.source_file, ingested_at=at
                    )
                    rows["value"] = rows["value"].astype("object")
                    self._upsert(
                        connection, self.metadata.tables["quarantined_leads"], _records(rows)
                    )
                log = {
                    SOURCE_FILE: lead_file.source_file,
                    "file_hash": lead_file.file_hash,
                    "kind": "outcomes" if len(lead_file.outcomes) else "leads",
                    "ingested_at": at,
                    "rows_read": lead_file.rows_read,
                    **counts,
                    "quarantined": len(quarantine),
                }
                self._upsert(connection, self.metadata.tables["ingest_log"], [log])
                logs.append(log)
        return logs

    def _store_leads(self, connection, table, lead_file: LeadFile, at: str) -> dict[str, int]:
        leads = lead_file.leads
        fields = [c for c in leads.columns if c not in (LEAD_ID, LABEL)]
        leads = leads.assign(**{CONTENT_HASH: content_hashes(leads[fields])})
        stored = self._stored_leads(connection, table, leads[LEAD_ID].tolist())
        stored = stored.set_index(LEAD_ID)
        known = leads[LEAD_ID].isin(stored.index)
        previous_hash = leads[LEAD_ID].map(stored[CONTENT_HASH]) if len(stored) else None
        changed = known & (leads[CONTENT_HASH] != previous_hash) if len(stored) else known
        new = leads.loc[~known]
        self._upsert(
            connection,
            table,
            _records(new.assign(source_file=lead_file.source_file, ingested_at=at)),
        )
        updated = leads.loc[changed]
        if len(updated):
            self._upsert(
                connection,
                table,
                _records(
                    updated.drop(columns=[LABEL], errors="ignore").assign(
                        source_file=lead_file.source_file, updated_at=at
                    )
                ),
            )
            self._record_changes(connection, stored, updated, fields, lead_file.source_file, at)
        # A labelled export fills the labels it carries.
        filled = 0
        if LABEL in leads:
            labelled = leads.loc[known & leads[LABEL].notna(), [LEAD_ID, LABEL]]
            if len(labelled):
                before = labelled[LEAD_ID].map(stored[LABEL])
                labelled = labelled.loc[before.isna() | (before != labelled[LABEL])]
                filled = self._set_labels(connection, table, labelled, at)
            filled += int(new[LABEL].notna().sum())
        return {
            "leads_new": len(new),
            "leads_updated": int(changed.sum()),
            "leads_unchanged": int((known & ~changed).sum()),
            "labels_filled": filled,
        }

    def _record_changes(self, connection, stored, updated, fields, source_file, at) -> None:
        before = stored.loc[updated[LEAD_ID], fields]
        after = updated.set_index(LEAD_ID)[fields]
        differs = ~((before == after) | (before.isna() & after.isna()))
        rows = []
        for lead_id, columns in differs.iterrows():
            names = [name for name in fields if columns[name]]
            rows.append(
                {
                    LEAD_ID: lead_id,
                    "changed_at": at,
                    SOURCE_FILE: source_file,
                    "previous_source_file": stored.at[lead_id, SOURCE_FILE],
                    "changed_columns": ",".join(names),
                    "previous_values": json.dumps(
                        {
                            n: None if pd.isna(v) else v
                            for n, v in before.loc[lead_id, names].items()
                        }
                    ),
                    "previous_hash": stored.at[lead_id, CONTENT_HASH],
                    CONTENT_HASH: updated.set_index(LEAD_ID).at[lead_id, CONTENT_HASH],
                }
            )
        connection.execute(sa.insert(self.metadata.tables["lead_changes"]), rows)

    def _set_labels(self, connection, table, labelled: pd.DataFrame, at: str) -> int:
        if labelled.empty:
            return 0
        statement = (
            sa.update(table)
            .where(table.c[LEAD_ID] == sa.bindparam("key"))
            .values({LABEL: sa.bindparam("label"), "labelled_at": at})
        )
        connection.execute(
            statement,
            [
                {"key": k, "label": int(v)}
                for k, v in zip(labelled[LEAD_ID], labelled[LABEL], strict=True)
            ],
        )
        return len(labelled)

    def _store_outcomes(self, connection, table, lead_file: LeadFile, at: str):
        outcomes = lead_file.outcomes
        if table is None:
            stored = pd.DataFrame(columns=[LEAD_ID, LABEL]).set_index(LEAD_ID)
        else:
            stored = self._stored_leads(connection, table, outcomes[LEAD_ID].tolist())
            stored = stored.set_index(LEAD_ID)
        known = outcomes[LEAD_ID].isin(stored.index)
        labelled = outcomes.loc[known]
        before = labelled[LEAD_ID].map(stored[LABEL])
        filled = self._set_labels(
            connection, table, labelled.loc[before.isna() | (before != labelled[LABEL])], at
        )
        unknown = outcomes.loc[~known]
        quarantine = pd.DataFrame(
            {
                "row": unknown.index.astype("int64"),
                LEAD_ID: unknown[LEAD_ID].to_numpy(),
                "column": LEAD_ID,
                "rule": "a stored lead",
                "value": unknown[LEAD_ID].to_numpy(),
                "reason": "lead_id: no stored lead has this id; its outcome was not recorded "
                + "(got "
                + unknown[LEAD_ID].astype("str")
                + ")",
            },
            columns=QUARANTINE_COLUMNS,
        )
        return filled, quarantine

    # --- score_new ------------------------------------------------------------------------------

    def leads_to_score(
        self, model_name: str, model_version: str, window_days: float
    ) -> pd.DataFrame:
        """Leads the version has not scored as they stand: new or changed ones, and recent ones.

        A lead no model scored in its current content is always due. A lead an earlier version
        scored is due only when it was created within ``window_days`` of the newest stored lead:
        a new champion rescores what reps still work on, not the whole history.
        """
        table = self.leads_table()
        if table is None:
            return pd.DataFrame(columns=[LEAD_ID])
        scores = self.metadata.tables["scored_leads"]
        with self.engine.connect() as connection:
            leads = pd.read_sql(
                sa.select(table.c[LEAD_ID], table.c[CREATED_DATE], table.c[CONTENT_HASH]),
                connection,
            )
            scored = pd.read_sql(
                sa.select(scores.c[LEAD_ID], scores.c[MODEL_VERSION], scores.c[CONTENT_HASH]).where(
                    scores.c[MODEL_NAME] == model_name
                ),
                connection,
            )
            if leads.empty:
                return pd.DataFrame(columns=[LEAD_ID])
            key = leads[LEAD_ID] + "\x1f" + leads[CONTENT_HASH]
            scored_key = scored[LEAD_ID] + "\x1f" + scored[CONTENT_HASH]
            by_this_version = key.isin(scored_key[scored[MODEL_VERSION] == model_version])
            by_any_version = key.isin(scored_key)
            created = pd.to_datetime(leads[CREATED_DATE], errors="coerce")
            recent = created >= created.max() - pd.Timedelta(days=window_days)
            due = ~by_this_version & (~by_any_version | recent)
            wanted = leads.loc[due, LEAD_ID].tolist()
            rows = self._stored_leads(connection, table, wanted)
        rows = rows.set_index(LEAD_ID).loc[wanted].reset_index()
        rows.attrs["rescored"] = int((due & by_any_version).sum())
        return rows

    def write_scores(self, batch: ScoreBatch) -> None:
        """Upsert the scores, the model's quarantine and the run's log row in one transaction."""
        with self.engine.begin() as connection:
            self._upsert(connection, self.metadata.tables["scored_leads"], _records(batch.scores))
            if len(batch.quarantine):
                self._upsert(
                    connection,
                    self.metadata.tables["quarantined_leads"],
                    _records(batch.quarantine),
                )
            if batch.run is not None:
                self._upsert(connection, self.metadata.tables["score_log"], [batch.run])

    def recent_score_runs(self, model_name: str, before_run: str, runs: int) -> pd.DataFrame:
        """The latest ``runs`` score runs before ``before_run`` that scored leads."""
        log = self.metadata.tables["score_log"]
        with self.engine.connect() as connection:
            return pd.read_sql(
                sa.select(log)
                .where(
                    log.c[MODEL_NAME] == model_name,
                    log.c.run_id != before_run,
                    # A shadow challenger's runs are not the champion's history.
                    sa.or_(log.c[ROLE] == CHAMPION, log.c[ROLE].is_(None)),
                    log.c.leads_scored > 0,
                )
                .order_by(log.c.scored_at.desc())
                .limit(runs),
                connection,
            )


class LeadStoreDataset(AbstractDataset[list[LeadFile] | ScoreBatch, LeadStore]):
    """The lead store at a SQLAlchemy URL: loads as a ``LeadStore``; saves ingest or score batches.

    Saving a list of ``LeadFile`` ingests them, a ``ScoreBatch`` records a score run; each save is
    one transaction. The tables are created on first use.
    """

    def __init__(self, *, url: str, metadata: dict[str, Any] | None = None) -> None:
        self._url = url
        self.metadata = metadata
        self._store: LeadStore | None = None

    @property
    def store(self) -> LeadStore:
        if self._store is None:
            try:
                self._store = LeadStore(self._url)
            except sa.exc.SQLAlchemyError as error:
                raise DatasetError(
                    f"Cannot open the lead store at {make_url(self._url)!r}: "
                    f"{str(error).splitlines()[0]}"
                ) from error
        return self._store

    def load(self) -> LeadStore:
        return self.store

    def save(self, data: list[LeadFile] | ScoreBatch) -> None:
        try:
            if isinstance(data, ScoreBatch):
                self.store.write_scores(data)
            else:
                self.store.write_ingest(list(data))
        # pandas' read_sql wraps the driver's refusal in its own DatabaseError.
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
            raise DatasetError(
                f"The lead store at {self._describe()['url']} refused the write, so nothing of "
                f"this run was stored: {str(error).splitlines()[0]}"
            ) from error

    def _exists(self) -> bool:
        return True

    def _describe(self) -> dict[str, Any]:
        return {"url": make_url(self._url).render_as_string(hide_password=True)}
