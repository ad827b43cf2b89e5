"""The Take a Break counts (``rollup_tabs``) are kept per period, a part of a month or the whole
school year, like the students' and follow-ups' counts, so that a report of the school year reads
one row per kind of Take a Break instead of summing every month's. The table is made again and
filled from the records already stored.

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


def downgrade() -> None:
    # 0008 kept one row per scope and month: the month rows are those periods, the year rows go.
    op.rename_table("rollup_tabs", "rollup_tabs_periods")
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
