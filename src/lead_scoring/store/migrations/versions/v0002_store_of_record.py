"""The store of record: leads keyed by the identity rules, a content-based read log, pending
outcomes, label changes, the challenger's role, realised performance and promotions.

- ``leads`` is created when the old store had none yet, with the contract's origin columns.
- Leads the old store keyed by pandas' row number (or by a hash of all their fields) are keyed
  again by ``natural_lead_keys``, their scores and change records with them. The old store
  merged different leads that shared a row number across files: those are not unmerged here,
  but ``ingest_log`` now records reads by content hash, which the old rows never match, so the
  next ingest reads every landing file again and stores each merged lead under its own key.
- ``ingest_log`` gets one row per read of a file's content (key: file and hash), a status and a
  reason; the old rows stay as history.
- ``scored_leads`` and ``score_log`` get ``role``; existing scores were the champion's.
- ``quarantined_leads`` gets the file ``line`` of each quarantined row.

Revision ID: 0002
"""

import pandas as pd
import sqlalchemy as sa
from alembic import op

from lead_scoring.contract import KEY_COLUMNS, LEAD_ID, ORIGIN_COLUMNS, natural_lead_keys
from lead_scoring.store import tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_NEW_TABLES = ("pending_outcomes", "label_changes", "realised_performance", "promotion_log")
_OLD_INGEST_COUNTS = [
    "rows_read",
    "leads_new",
    "leads_updated",
    "leads_unchanged",
    "quarantined",
    "labels_filled",
]


def _create_leads(connection) -> None:
    if sa.inspect(connection).has_table("leads"):
        existing = {c["name"] for c in sa.inspect(connection).get_columns("leads")}
        # The old table was made from a file's columns: add the origin columns it may lack.
        with op.batch_alter_table("leads") as batch:
            for name in ORIGIN_COLUMNS:
                if name not in existing:
                    batch.add_column(sa.Column(name, sa.Text))
        return
    tables.leads.create(connection)


def _rekey_leads(connection) -> None:
    """Each stored lead under its natural key; the newest of leads that share one is kept."""
    leads = pd.read_sql(
        sa.text(f"SELECT lead_id, {', '.join(KEY_COLUMNS)}, updated_at, ingested_at FROM leads"),
        connection,
    )
    if leads.empty:
        return
    leads["new_id"] = natural_lead_keys(leads)
    newest = leads.assign(at=leads["updated_at"].fillna(leads["ingested_at"]).fillna(""))
    newest = newest.sort_values("at").drop_duplicates("new_id", keep="last")
    dropped = leads.loc[~leads[LEAD_ID].isin(newest[LEAD_ID]), LEAD_ID].tolist()
    mapping = newest.loc[newest[LEAD_ID] != newest["new_id"], [LEAD_ID, "new_id"]]
    if dropped:
        for name in ("leads", "scored_leads"):
            connection.execute(
                sa.text(f"DELETE FROM {name} WHERE lead_id = :old"), [{"old": o} for o in dropped]
            )
    rows = [{"old": old, "new": new} for old, new in mapping.itertuples(index=False)]
    if rows:
        for name in ("leads", "scored_leads", "lead_changes"):
            connection.execute(
                sa.text(f"UPDATE {name} SET lead_id = :new WHERE lead_id = :old"), rows
            )


def _recreate_ingest_log(connection) -> None:
    op.rename_table("ingest_log", "ingest_log_0001")
    tables.ingest_log.create(connection)
    columns = ", ".join(["source_file", "file_hash", "kind", "ingested_at", *_OLD_INGEST_COUNTS])
    op.execute(
        f"INSERT INTO ingest_log ({columns}, status) "
        f"SELECT {columns}, 'stored' FROM ingest_log_0001 WHERE file_hash IS NOT NULL"
    )
    op.drop_table("ingest_log_0001")


def upgrade() -> None:
    connection = op.get_bind()
    _create_leads(connection)
    _rekey_leads(connection)
    _recreate_ingest_log(connection)
    with op.batch_alter_table("quarantined_leads") as batch:
        batch.add_column(sa.Column("line", sa.BigInteger))
    for name in ("scored_leads", "score_log"):
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("role", sa.Text, server_default="champion"))
        op.execute(f"UPDATE {name} SET role = 'champion' WHERE role IS NULL")
    for name in _NEW_TABLES:
        tables.metadata.tables[name].create(connection)
    op.execute(tables.CALL_QUEUE_SQL)


def downgrade() -> None:
    # The leads were keyed again and the read log rebuilt: no faithful way back but a backup.
    raise NotImplementedError(
        "Revision 0002 keys the leads again; it has no downgrade. Restore a backup of the store."
    )
