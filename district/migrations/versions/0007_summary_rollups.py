"""Counts kept on write for the administrators' summaries: ``rollup_incidents``,
``rollup_students`` and ``rollup_tabs`` (district/summaries/rollup.py), filled from the records
already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.String(255)


def _sums(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in names]


def upgrade() -> None:
    op.create_table(
        "rollup_incidents",
        sa.Column("grouping", sa.String(16), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("school_id", Id, primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        *_sums("incidents", "removals", "removal_minutes", "timed_removals", "iss",
               "iss_microdays", "bypasses", "voided"),
        sqlite_with_rowid=False,
    )  # fmt: skip
    op.create_table(
        "rollup_students",
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("scope", Id, primary_key=True),
        sa.Column("behavior_code", sa.String(64), primary_key=True),
        sa.Column("student_id", Id, primary_key=True),
        *_sums(
            "incidents",
            "removals",
            "iss",
            "tabs",
            "tab_outs",
            "tab_out_seconds",
            "tab_seconds",
            "tabs_spot",
            "tabs_out",
            "tabs_out_and_back",
            "tabs_by_student",
            "tabs_by_teacher",
            "tabs_ready",
            "tabs_not_ready",
            "tabs_ready_unknown",
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_rollup_students_pairs",
        "rollup_students",
        ["period", "scope", "incidents", "student_id", "behavior_code"],
        sqlite_where=sa.text("behavior_code != ''"),
        postgresql_where=sa.text("behavior_code != ''"),
    )
    op.create_table(
        "rollup_tabs",
        sa.Column("scope", Id, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("started_by", sa.String(32), primary_key=True),
        sa.Column("returned_ready", sa.String(8), primary_key=True),
        sa.Column("tenths", sa.Integer, primary_key=True),
        *_sums("events", "seconds"),
        sqlite_with_rowid=False,
    )
    # The records already stored are counted with the module that keeps the counts from now on.
    from district.summaries.rollup import rebuild

    # The Take a Breaks are counted by 0009, which gives their table its periods (this
    # module's rebuild writes today's shape of every table); follow-ups by 0008.
    rebuild(op.get_bind(), targets=("incidents", "students"))


def downgrade() -> None:
    op.drop_table("rollup_tabs")
    op.drop_table("rollup_students")
    op.drop_table("rollup_incidents")
