"""The store as it was before migrations: the tables ``lead_store.py`` created on first use.

``leads`` is not created here: that code created it from the first landing file's columns.
A store made by that code has no ``alembic_version`` table; it is stamped with this revision
and upgraded from here (``lead_scoring.store.schema``).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    text, number = sa.Text, sa.Float
    op.create_table(
        "quarantined_leads",
        sa.Column("source_file", text, primary_key=True),
        sa.Column("row", sa.BigInteger, primary_key=True),
        sa.Column("lead_id", text),
        sa.Column("column", text),
        sa.Column("rule", text),
        sa.Column("value", text),
        sa.Column("reason", text),
        sa.Column("ingested_at", text),
    )
    op.create_table(
        "scored_leads",
        sa.Column("lead_id", text, primary_key=True),
        sa.Column("model_name", text, primary_key=True),
        sa.Column("model_version", text, primary_key=True),
        sa.Column("scored_at", text),
        sa.Column("probability", number),
        sa.Column("score", sa.Integer),
        sa.Column("tier", text),
        *(sa.Column(f"reason_{k}", text) for k in (1, 2, 3)),
        sa.Column("created_date", text),
        sa.Column("content_hash", text),
        sa.Column("run_id", text),
    )
    op.create_table(
        "lead_changes",
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", text, index=True),
        sa.Column("changed_at", text),
        sa.Column("source_file", text),
        sa.Column("previous_source_file", text),
        sa.Column("changed_columns", text),
        sa.Column("previous_values", text),
        sa.Column("previous_hash", text),
        sa.Column("content_hash", text),
    )
    op.create_table(
        "ingest_log",
        sa.Column("source_file", text, primary_key=True),
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
    op.create_table(
        "score_log",
        sa.Column("run_id", text, primary_key=True),
        sa.Column("scored_at", text),
        sa.Column("model_name", text),
        sa.Column("model_version", text),
        *(
            sa.Column(name, sa.Integer)
            for name in ("leads_selected", "leads_scored", "leads_quarantined", "rescored")
        ),
        *(sa.Column(f"{tier}_share", number) for tier in ("hot", "warm", "cold")),
        sa.Column("max_psi", number),
        sa.Column("drifting_features", text),
    )


def downgrade() -> None:
    for name in ("score_log", "ingest_log", "lead_changes", "scored_leads", "quarantined_leads"):
        op.drop_table(name)
