"""Counts kept on write for the follow-ups summary: ``rollup_follow_ups`` (per period, scope,
grain, kind, minutes to done and due day; district/summaries/rollup.py), filled from the records
already stored, and a partial index of the live open follow-ups by due moment (the report reads
today's from it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.String(255)
OPEN: dict[str, Any] = {
    "sqlite_where": sa.text("done_at IS NULL AND tombstone IS 0 AND voided_at IS NULL"),
    "postgresql_where": sa.text("done_at IS NULL AND tombstone IS false AND voided_at IS NULL"),
}


def upgrade() -> None:
    op.create_table(
        "rollup_follow_ups",
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("scope", Id, primary_key=True),
        sa.Column("grain", sa.SmallInteger, primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("minutes", sa.Integer, primary_key=True),
        sa.Column("due_day", sa.Date, primary_key=True),
        sa.Column("follow_ups", sa.BigInteger, nullable=False, server_default="0"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_follow_ups_open_due", "follow_ups", ["due_at", "incident_id", "kind"], **OPEN
    )
    # The records already stored are counted with the module that keeps the counts from now on.
    from district.summaries.rollup import rebuild

    rebuild(op.get_bind(), targets=("follow_ups",))


def downgrade() -> None:
    op.drop_index("ix_follow_ups_open_due", table_name="follow_ups")
    op.drop_table("rollup_follow_ups")
