"""The store's tables as the newest migration leaves them (SQLAlchemy Core).

The migrations in ``migrations/versions`` create and change the database; these definitions are
what the repository queries. A test checks the two agree.

``leads`` holds the contract's origin columns as fixed columns. The interaction columns are the
reference file ``interaction_mapping.csv``'s business, which changes without a release: the
repository adds each one as a text column the first time a file carries it (docs/operations.md).
"""

from __future__ import annotations

import sqlalchemy as sa

from lead_scoring.contract import CREATED_DATE, LABEL, LEAD_ID, LINE, ORIGIN_COLUMNS

MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
CONTENT_HASH = "content_hash"
SOURCE_FILE = "source_file"
ROLE = "role"
SCORE_COLUMNS = ["probability", "score", "tier", "reason_1", "reason_2", "reason_3"]
# Columns of ``leads`` the store keeps about a lead, besides the export's own fields.
BOOKKEEPING_COLUMNS = [LABEL, CONTENT_HASH, SOURCE_FILE, "ingested_at", "updated_at", "labelled_at"]
# ingest_log's counts of one read of one file.
INGEST_COUNTS = [
    "rows_read",
    "leads_new",
    "leads_updated",
    "leads_unchanged",
    "quarantined",
    "labels_filled",
    "labels_changed",
    "outcomes_pending",
    "pending_applied",
]
# A landing file's read: stored, or refused whole with a one-line reason.
STORED, REFUSED = "stored", "refused"

metadata = sa.MetaData()
_text, _number = sa.Text, sa.Float

leads = sa.Table(
    "leads",
    metadata,
    sa.Column(LEAD_ID, _text, primary_key=True),
    *(sa.Column(name, _text, index=name == CREATED_DATE) for name in ORIGIN_COLUMNS),
    sa.Column(LABEL, sa.Integer),
    *(sa.Column(name, _text) for name in BOOKKEEPING_COLUMNS[1:]),
)

quarantined_leads = sa.Table(
    "quarantined_leads",
    metadata,
    sa.Column(SOURCE_FILE, _text, primary_key=True),
    # The lead's 0-based position in the file; a line that held no lead, minus its line number.
    sa.Column("row", sa.BigInteger, primary_key=True),
    sa.Column(LEAD_ID, _text),
    sa.Column("column", _text),
    sa.Column("rule", _text),
    sa.Column("value", _text),
    sa.Column("reason", _text),
    sa.Column("ingested_at", _text),
    # The file line the row's record starts on (the header is line 1), where the reader knew it.
    sa.Column(LINE, sa.BigInteger),
)

scored_leads = sa.Table(
    "scored_leads",
    metadata,
    sa.Column(LEAD_ID, _text, primary_key=True),
    sa.Column(MODEL_NAME, _text, primary_key=True),
    sa.Column(MODEL_VERSION, _text, primary_key=True),
    sa.Column("scored_at", _text),
    sa.Column("probability", _number),
    sa.Column("score", sa.Integer),
    sa.Column("tier", _text),
    *(sa.Column(f"reason_{k}", _text) for k in (1, 2, 3)),
    sa.Column(CREATED_DATE, _text),
    sa.Column(CONTENT_HASH, _text),
    sa.Column("run_id", _text),
    sa.Column(ROLE, _text, server_default="champion"),
)

lead_changes = sa.Table(
    "lead_changes",
    metadata,
    sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(LEAD_ID, _text, index=True),
    sa.Column("changed_at", _text),
    sa.Column(SOURCE_FILE, _text),
    sa.Column("previous_source_file", _text),
    sa.Column("changed_columns", _text),
    # The changed fields' previous values, as JSON.
    sa.Column("previous_values", _text),
    sa.Column("previous_hash", _text),
    sa.Column(CONTENT_HASH, _text),
)

# One row per read of a landing file's content: the store's record of what was read.
ingest_log = sa.Table(
    "ingest_log",
    metadata,
    sa.Column(SOURCE_FILE, _text),
    sa.Column("file_hash", _text),
    sa.Column("kind", _text),
    sa.Column("ingested_at", _text),
    *(sa.Column(name, sa.Integer) for name in INGEST_COUNTS),
    sa.Column("status", _text, server_default=STORED),
    sa.Column("reason", _text),
    sa.PrimaryKeyConstraint(SOURCE_FILE, "file_hash", name="ingest_log_read_pkey"),
    sa.Index("ix_ingest_log_file_hash", "file_hash"),
)

score_log = sa.Table(
    "score_log",
    metadata,
    sa.Column("run_id", _text, primary_key=True),
    sa.Column("scored_at", _text),
    sa.Column(MODEL_NAME, _text),
    sa.Column(MODEL_VERSION, _text),
    *(
        sa.Column(name, sa.Integer)
        for name in ("leads_selected", "leads_scored", "leads_quarantined", "rescored")
    ),
    *(sa.Column(f"{tier}_share", _number) for tier in ("hot", "warm", "cold")),
    sa.Column("max_psi", _number),
    sa.Column("drifting_features", _text),
    sa.Column(ROLE, _text, server_default="champion"),
)

# An outcome whose lead is not stored yet: applied, then removed, when the lead arrives.
pending_outcomes = sa.Table(
    "pending_outcomes",
    metadata,
    sa.Column(LEAD_ID, _text, primary_key=True),
    sa.Column(LABEL, sa.Integer, nullable=False),
    sa.Column(SOURCE_FILE, _text),
    sa.Column("row", sa.BigInteger),
    sa.Column("received_at", _text),
)

# A known label replaced by a different one; train_from_store reports those not yet reported.
label_changes = sa.Table(
    "label_changes",
    metadata,
    sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(LEAD_ID, _text, index=True),
    sa.Column("previous_label", sa.Integer),
    sa.Column("new_label", sa.Integer),
    # The stored lead's label, or the label of an outcome still pending.
    sa.Column("previous_state", _text),
    sa.Column(SOURCE_FILE, _text),
    sa.Column("changed_at", _text),
    sa.Column("reported_at", _text),
)

realised_performance = sa.Table(
    "realised_performance",
    metadata,
    sa.Column(MODEL_NAME, _text, primary_key=True),
    sa.Column(MODEL_VERSION, _text, primary_key=True),
    sa.Column(ROLE, _text, primary_key=True),
    sa.Column("period", _text, primary_key=True),
    sa.Column("labelled_leads", sa.Integer),
    sa.Column("completers", sa.Integer),
    sa.Column("roc_auc", _number),
    sa.Column("pr_auc", _number),
    sa.Column("hot_precision", _number),
    sa.Column("cold_completers_lost", sa.Integer),
    sa.Column("mean_probability", _number),
    sa.Column("completion_rate", _number),
    sa.Column("note", _text),
    sa.Column("measured_at", _text),
)

promotion_log = sa.Table(
    "promotion_log",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("decided_at", _text),
    sa.Column(MODEL_NAME, _text),
    sa.Column("champion_version", _text),
    sa.Column("challenger_version", _text),
    sa.Column("leads_compared", sa.Integer),
    *(
        sa.Column(name, _number)
        for name in (
            "champion_roc_auc",
            "challenger_roc_auc",
            "gain",
            "gain_low",
            "gain_high",
            "confidence",
            "margin",
        )
    ),
    sa.Column("outcome", _text),
    sa.Column("reason", _text),
    sa.Column("mlflow_run_id", _text),
)

# The call queue: each open lead with its latest score by the champion of its scoring time.
CALL_QUEUE_SQL = """
CREATE VIEW call_queue AS
SELECT l.lead_id, l.created_date, l.city_mapped, l.first_platform_c, l.first_utm_medium_c,
       l.first_utm_source_c, s.probability, s.score, s.tier, s.reason_1, s.reason_2,
       s.reason_3, s.model_name, s.model_version, s.scored_at
FROM leads AS l
JOIN scored_leads AS s ON s.lead_id = l.lead_id
WHERE s.role = 'champion'
  AND l.app_complete_flag IS NULL
  AND s.scored_at = (
      SELECT MAX(latest.scored_at) FROM scored_leads AS latest
      WHERE latest.lead_id = s.lead_id AND latest.role = 'champion'
  )
"""
