"""Covering partial indexes for the administrators' summaries: the rows a report counts (live,
not voided) by school and date and by date alone, with every column a report reads, so reports
never touch the wide rows; and two small ones for the voided and withdrawn counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INCIDENT_COLUMNS = [
    "level", "student_grade", "student_id", "behavior_code", "location", "local_hour",
    "is_removal", "is_iss", "progression_bypassed", "iss_days", "removal_minutes", "tombstone",
    "voided_at",
]  # fmt: skip
TAB_COLUMNS = [
    "student_grade", "student_id", "kind", "started_by", "returned_ready", "minutes",
    "tombstone", "voided_at",
]  # fmt: skip


def _where(sqlite: str, postgresql: str) -> dict[str, Any]:
    """The same condition as the summaries' queries render it on each database."""
    return {"sqlite_where": sa.text(sqlite), "postgresql_where": sa.text(postgresql)}


COUNTED = _where("tombstone IS 0 AND voided_at IS NULL", "tombstone IS false AND voided_at IS NULL")
VOIDED = _where(
    "tombstone IS 0 AND voided_at IS NOT NULL", "tombstone IS false AND voided_at IS NOT NULL"
)
WITHDRAWN = _where("tombstone IS 1", "tombstone IS true")


def upgrade() -> None:
    op.create_index(
        "ix_incidents_summary_school",
        "incidents",
        ["school_id", "local_date", *INCIDENT_COLUMNS],
        **COUNTED,
    )
    op.create_index(
        "ix_incidents_summary_date",
        "incidents",
        ["local_date", "school_id", *INCIDENT_COLUMNS],
        **COUNTED,
    )
    op.create_index(
        "ix_incidents_summary_voided",
        "incidents",
        ["local_date", "school_id", "level", "student_grade", "student_id", "tombstone",
         "voided_at"],
        **VOIDED,
    )  # fmt: skip
    op.create_index(
        "ix_incidents_summary_withdrawn", "incidents", ["school_id", "tombstone"], **WITHDRAWN
    )
    op.create_index(
        "ix_tab_events_summary_school",
        "tab_events",
        ["school_id", "local_date", *TAB_COLUMNS],
        **COUNTED,
    )
    op.create_index(
        "ix_tab_events_summary_date",
        "tab_events",
        ["local_date", "school_id", *TAB_COLUMNS],
        **COUNTED,
    )
    op.create_index(
        "ix_follow_ups_summary",
        "follow_ups",
        ["incident_id", "kind", "done_at", "created_at", "due_at", "tombstone", "voided_at"],
        **COUNTED,
    )


def downgrade() -> None:
    for name, table in (
        ("ix_follow_ups_summary", "follow_ups"),
        ("ix_tab_events_summary_date", "tab_events"),
        ("ix_tab_events_summary_school", "tab_events"),
        ("ix_incidents_summary_withdrawn", "incidents"),
        ("ix_incidents_summary_voided", "incidents"),
        ("ix_incidents_summary_date", "incidents"),
        ("ix_incidents_summary_school", "incidents"),
    ):
        op.drop_index(name, table_name=table)
