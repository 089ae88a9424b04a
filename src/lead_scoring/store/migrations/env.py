"""Alembic's environment: migrations run on the connection the store hands over.

The store (``lead_scoring.store.schema``) calls Alembic with an open connection in
``config.attributes["connection"]``; nothing here reads a URL or an ini file.
"""

from alembic import context

connection = context.config.attributes["connection"]
# Batch mode: SQLite alters a table by copying it, which Alembic does for us.
context.configure(connection=connection, render_as_batch=True, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
