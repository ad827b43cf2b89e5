"""The summaries' incident indexes also carry the incident's id, and the follow-ups index covers
every follow-up (not only live ones: SQLite's planner would not pick a partial index for the
join), so the follow-ups report joins follow-ups to the incidents it counts from indexes alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INCIDENT_COLUMNS = [
    "level", "student_grade", "student_id", "behavior_code", "location", "local_hour",
    "is_removal", "is_iss", "progression_bypassed", "iss_days", "removal_minutes", "tombstone",
    "voided_at",
]  # fmt: skip
COUNTED: dict[str, Any] = {
    "sqlite_where": sa.text("tombstone IS 0 AND voided_at IS NULL"),
    "postgresql_where": sa.text("tombstone IS false AND voided_at IS NULL"),
}
LEADING = {
    "ix_incidents_summary_school": ["school_id", "local_date"],
    "ix_incidents_summary_date": ["local_date", "school_id"],
}


def _rebuild(with_id: bool) -> None:
    for name, leading in LEADING.items():
        op.drop_index(name, table_name="incidents")
        columns = [*leading, *INCIDENT_COLUMNS, *(["id"] if with_id else [])]
        op.create_index(name, "incidents", columns, **COUNTED)


FOLLOW_UP_COLUMNS = [
    "incident_id", "kind", "done_at", "created_at", "due_at", "tombstone", "voided_at",
]  # fmt: skip


def upgrade() -> None:
    _rebuild(with_id=True)
    op.drop_index("ix_follow_ups_summary", table_name="follow_ups")
    op.create_index("ix_follow_ups_summary", "follow_ups", FOLLOW_UP_COLUMNS)


def downgrade() -> None:
    _rebuild(with_id=False)
    op.drop_index("ix_follow_ups_summary", table_name="follow_ups")
    op.create_index("ix_follow_ups_summary", "follow_ups", FOLLOW_UP_COLUMNS, **COUNTED)
