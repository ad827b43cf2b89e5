"""Alembic environment: runs on the connection ``district.db.migrate`` hands over, inside its
transaction (which already holds the migration lock)."""

from __future__ import annotations

from alembic import context

from district.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through district.db.migrate(), which passes a connection")

context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
