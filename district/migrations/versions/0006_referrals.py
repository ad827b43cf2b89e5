"""Interventions (R5) and office referrals (R10) become synced kinds: one typed table each.

An intervention arrives only when it answers no Level 1 record; an office referral carries the
office's decision (level 3-5, days of OSS, alternatives to suspension offered), written by an
administrator on the server. Both tables start empty: devices held these records alone until now
and push them on their next sync.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Id = sa.String(255)
Hlc = sa.String(120)
Moment = sa.DateTime(timezone=True)


def _sync() -> list[sa.Column[Any]]:
    return [
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("tombstone", sa.Boolean, nullable=False),
        sa.Column("tombstone_hlc", Hlc, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("stored_at", Moment, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
    ]


def _table(name: str, content: list[sa.Column[Any]], local_times: bool) -> None:
    local: list[sa.Column[Any]] = (
        [
            sa.Column("local_date", sa.Date, nullable=True),
            sa.Column("local_hour", sa.SmallInteger, nullable=True),
            sa.Column("local_weekday", sa.SmallInteger, nullable=True),
        ]
        if local_times
        else []
    )
    op.create_table(
        name,
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_device_id", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("student_grade", sa.String(32), nullable=True),
        *content,
        *local,
        *_sync(),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.ForeignKeyConstraint(
            ["owner_device_id"], ["devices.id"], name=f"fk_{name}_owner_device_id_devices"
        ),
    )
    op.create_index(f"ix_{name}_owner_device_id", name, ["owner_device_id"])
    op.create_index(f"ix_{name}_cursor", name, ["cursor"])


def upgrade() -> None:
    _table(
        "interventions",
        [
            sa.Column("student_id", Id, nullable=True),
            sa.Column("staff_id", Id, nullable=True),
            sa.Column("device_id", Id, nullable=True),
            sa.Column("behavior_code", sa.String(64), nullable=True),
            sa.Column("kind", sa.String(32), nullable=True),
            sa.Column("kind_label", sa.Text, nullable=True),
            sa.Column("starts_on", sa.Date, nullable=True),
            sa.Column("review_on", sa.Date, nullable=True),
            sa.Column("incident_id", Id, nullable=True),
            sa.Column("note", sa.Text, nullable=True),
            sa.Column("created_at", Moment, nullable=True),
            sa.Column("updated_at", Moment, nullable=True),
            sa.Column("voided_at", Moment, nullable=True),
            sa.Column("void_reason", sa.Text, nullable=True),
        ],
        local_times=False,
    )
    op.create_index(
        "ix_interventions_student_id_starts_on", "interventions", ["student_id", "starts_on"]
    )
    op.create_index("ix_interventions_incident_id", "interventions", ["incident_id"])
    op.create_index(
        "ix_interventions_school_id_starts_on", "interventions", ["school_id", "starts_on"]
    )
    _table(
        "office_referrals",
        [
            sa.Column("student_id", Id, nullable=True),
            sa.Column("staff_id", Id, nullable=True),
            sa.Column("device_id", Id, nullable=True),
            sa.Column("behavior_code", sa.String(64), nullable=True),
            sa.Column("occurred_at", Moment, nullable=True),
            sa.Column("tz", sa.String(64), nullable=True),
            sa.Column("location", sa.Text, nullable=True),
            sa.Column("note", sa.Text, nullable=True),
            sa.Column("decided_level", sa.Integer, nullable=True),
            sa.Column("oss_days", sa.Float, nullable=True),
            sa.Column("alternatives", Json, nullable=True),
            sa.Column("decided_at", Moment, nullable=True),
            sa.Column("created_at", Moment, nullable=True),
            sa.Column("updated_at", Moment, nullable=True),
            sa.Column("voided_at", Moment, nullable=True),
            sa.Column("void_reason", sa.Text, nullable=True),
        ],
        local_times=True,
    )
    for columns in (
        ["school_id", "local_date"],
        ["student_id", "occurred_at"],
        ["school_id", "decided_level"],
        ["student_grade", "local_date"],
    ):
        op.create_index(f"ix_office_referrals_{'_'.join(columns)}", "office_referrals", columns)


def downgrade() -> None:
    op.drop_table("office_referrals")
    op.drop_table("interventions")
