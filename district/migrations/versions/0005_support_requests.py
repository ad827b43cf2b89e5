"""Support requests (R9): a teacher's call for mobile response staff, in typed columns, scoped
by school.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Id = sa.String(255)
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "support_requests",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_device_id", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("requested_by", Id, nullable=True),
        sa.Column("requested_by_name", sa.Text, nullable=True),
        sa.Column("device_id", Id, nullable=True),
        sa.Column("room", sa.Text, nullable=True),
        sa.Column("section_id", Id, nullable=True),
        sa.Column("student_ids", Json, nullable=True),
        sa.Column("urgency", sa.String(32), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("state", sa.String(32), nullable=True),
        sa.Column("accepted_by", Id, nullable=True),
        sa.Column("accepted_by_name", sa.Text, nullable=True),
        sa.Column("accepted_at", Moment, nullable=True),
        sa.Column("resolved_at", Moment, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("incident_id", Id, nullable=True),
        sa.Column("created_at", Moment, nullable=True),
        sa.Column("updated_at", Moment, nullable=True),
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("stored_at", Moment, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_device_id"],
            ["devices.id"],
            name="fk_support_requests_owner_device_id_devices",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_support_requests"),
    )
    op.create_index("ix_support_requests_cursor", "support_requests", ["cursor"])
    op.create_index("ix_support_requests_owner_device_id", "support_requests", ["owner_device_id"])
    op.create_index(
        "ix_support_requests_school_id_cursor", "support_requests", ["school_id", "cursor"]
    )
    op.create_index(
        "ix_support_requests_state_created_at", "support_requests", ["state", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("support_requests")
