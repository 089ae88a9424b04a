"""The store's schema revision: read, checked, and upgraded with Alembic.

A store made before migrations (no ``alembic_version`` table, but the old tables) is stamped
with revision 0001, the schema that code made, and upgraded from there.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from lead_scoring.store.errors import SchemaOutOfDateError

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_COMMAND = "kedro store upgrade"
# Tables the store made before it had migrations: their presence marks revision 0001.
_FIRST_TABLES = {"ingest_log", "scored_leads", "quarantined_leads"}


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The database's revision; "0001" for a store made before migrations; None when empty."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and set(sa.inspect(connection).get_table_names()) >= _FIRST_TABLES:
        return "0001"
    return revision


def is_current(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return current_revision(connection) == head_revision()


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Upgrade the database to the newest revision, in one transaction; (from, to)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        before = current_revision(connection)
        if (
            before == "0001"
            and MigrationContext.configure(connection).get_current_revision() is None
        ):
            command.stamp(config, "0001")
        command.upgrade(config, "head")
    return before, head_revision()


def check(engine: sa.Engine, describe: str) -> None:
    """Stop in one line when the database is not at the newest revision."""
    with engine.connect() as connection:
        revision = current_revision(connection)
    if revision != head_revision():
        raise SchemaOutOfDateError(
            f"The lead store at {describe} has schema revision {revision or 'none'}, this "
            f"code needs {head_revision()}: run `{UPGRADE_COMMAND}` (docs/operations.md), or set "
            "auto_upgrade: true on the lead store in conf/base/catalog.yml."
        )
