"""Two read paths of the summaries over a large district:

- The Take a Break counts (``rollup_tabs``) are kept per period, a part of a month or the whole
  school year, like the students' and follow-ups' counts, so that a report of the school year
  reads one row per kind of Take a Break instead of summing every month's. The table is made
  again and filled from the records already stored.
- The repeated student-behavior pairs (two incidents or more) are indexed by student, so the
  progression report counts the students with a repeat in index order instead of hashing every
  pair.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.String(255)
KEYS = ("kind", "started_by", "returned_ready", "tenths")
REPEATED_PAIR = "behavior_code != '' AND incidents >= 2"


def _sums() -> tuple[sa.Column[int], ...]:
    return tuple(
        sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
        for name in ("events", "seconds")
    )


def _keys() -> tuple[sa.Column[str] | sa.Column[int], ...]:
    return (
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("started_by", sa.String(32), primary_key=True),
        sa.Column("returned_ready", sa.String(8), primary_key=True),
        sa.Column("tenths", sa.Integer, primary_key=True),
    )


def upgrade() -> None:
    op.drop_table("rollup_tabs")
    op.create_table(
        "rollup_tabs",
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("scope", Id, primary_key=True),
        *_keys(),
        *_sums(),
        sqlite_with_rowid=False,
    )
    # The records already stored are counted with the module that keeps the counts from now on.
    from district.summaries.rollup import rebuild

    rebuild(op.get_bind(), targets=("tabs",))
    op.create_index(
        "ix_rollup_students_repeats",
        "rollup_students",
        ["period", "scope", "student_id", "incidents", "behavior_code"],
        sqlite_where=sa.text(REPEATED_PAIR),
        postgresql_where=sa.text(REPEATED_PAIR),
    )


def downgrade() -> None:
    op.drop_index("ix_rollup_students_repeats", table_name="rollup_students")
    # 0008 kept one row per scope and month: the month rows are those periods, the year rows go.
    op.rename_table("rollup_tabs", "rollup_tabs_periods")
    if op.get_bind().dialect.name != "sqlite":  # PostgreSQL names constraints per schema
        op.execute(
            "ALTER TABLE rollup_tabs_periods RENAME CONSTRAINT pk_rollup_tabs "
            "TO pk_rollup_tabs_periods"
        )
    op.create_table(
        "rollup_tabs",
        sa.Column("scope", Id, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        *_keys(),
        *_sums(),
        sqlite_with_rowid=False,
    )
    periods = sa.table(
        "rollup_tabs_periods",
        *(sa.column(name) for name in ("period", "scope", *KEYS, "events", "seconds")),
    )
    months = sa.table(
        "rollup_tabs",
        sa.column("scope"),
        sa.column("month", sa.Date),
        *(sa.column(name) for name in (*KEYS, "events", "seconds")),
    )
    month: sa.ColumnElement[Any] = sa.func.substr(periods.c.period, 2)
    if op.get_bind().dialect.name != "sqlite":  # SQLite keeps a date as its ISO text
        month = sa.cast(month, sa.Date)
    op.execute(
        months.insert().from_select(
            ["scope", "month", *KEYS, "events", "seconds"],
            sa.select(
                periods.c.scope,
                month,
                *(periods.c[name] for name in (*KEYS, "events", "seconds")),
            ).where(periods.c.period.like("M%")),
        )
    )
    op.drop_table("rollup_tabs_periods")
