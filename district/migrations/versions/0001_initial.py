"""The first schema: roster, devices, enrollment codes, records, sync bookkeeping, grid, config.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Id = sa.String(255)
Hlc = sa.String(120)
Moment = sa.DateTime(timezone=True)


def _roster_columns() -> list[sa.Column[bool] | sa.Column[int]]:
    return [
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_change_counter"),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}, {"id": 2, "value": 0}])

    op.create_table(
        "orgs",
        sa.Column("sourced_id", Id, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("sourced_id", name="pk_orgs"),
    )
    op.create_table(
        "students",
        sa.Column("sourced_id", Id, nullable=False),
        sa.Column("given_name", sa.String(500), nullable=False),
        sa.Column("family_name", sa.String(500), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("iep", sa.Boolean, nullable=False),
        sa.Column("school_id", Id, nullable=True),
        *_roster_columns(),
        sa.PrimaryKeyConstraint("sourced_id", name="pk_students"),
    )
    op.create_index("ix_students_school_id", "students", ["school_id"])
    op.create_index("ix_students_cursor", "students", ["cursor"])
    op.create_table(
        "demographics",
        sa.Column("student_id", Id, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("sex", sa.String(64), nullable=True),
        sa.Column("race", Json, nullable=False),
        sa.Column("hispanic_or_latino", sa.Boolean, nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.sourced_id"],
            name="fk_demographics_student_id_students",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_id", name="pk_demographics"),
    )
    op.create_table(
        "staff",
        sa.Column("sourced_id", Id, nullable=False),
        sa.Column("given_name", sa.String(500), nullable=False),
        sa.Column("family_name", sa.String(500), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        *_roster_columns(),
        sa.PrimaryKeyConstraint("sourced_id", name="pk_staff"),
    )
    op.create_index("ix_staff_school_id", "staff", ["school_id"])
    op.create_index("ix_staff_cursor", "staff", ["cursor"])
    op.create_table(
        "sections",
        sa.Column("sourced_id", Id, nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("course_title", sa.String(500), nullable=False),
        sa.Column("periods", sa.String(500), nullable=False),
        *_roster_columns(),
        sa.PrimaryKeyConstraint("sourced_id", name="pk_sections"),
    )
    op.create_index("ix_sections_school_id", "sections", ["school_id"])
    op.create_index("ix_sections_cursor", "sections", ["cursor"])
    op.create_table(
        "enrollments",
        sa.Column("section_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False),
        sa.Column("school_id", Id, nullable=True),
        *_roster_columns(),
        sa.PrimaryKeyConstraint("section_id", "user_id", name="pk_enrollments"),
    )
    op.create_index("ix_enrollments_user_id", "enrollments", ["user_id"])
    op.create_index("ix_enrollments_school_id", "enrollments", ["school_id"])
    op.create_index("ix_enrollments_cursor", "enrollments", ["cursor"])
    op.create_table(
        "devices",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("district_scope", sa.Boolean, nullable=False),
        sa.Column("staff_id", Id, nullable=True),
        sa.Column("section_ids", Json, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("revoked_at", Moment, nullable=True),
        sa.Column("last_seen_at", Moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.UniqueConstraint("token_hash", name="uq_devices_token_hash"),
    )
    op.create_index("ix_devices_school_id", "devices", ["school_id"])
    op.create_table(
        "enrollment_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("district_scope", sa.Boolean, nullable=False),
        sa.Column("staff_id", Id, nullable=True),
        sa.Column("section_ids", Json, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
        sa.Column("used_at", Moment, nullable=True),
        sa.Column("used_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_enrollment_codes"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_device_id", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("student_id", Id, nullable=True),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("level", sa.SmallInteger, nullable=True),
        sa.Column("fields", Json, nullable=True),
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("tombstone", sa.Boolean, nullable=False),
        sa.Column("tombstone_hlc", Hlc, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_device_id"], ["devices.id"], name="fk_records_owner_device_id_devices"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
    )
    op.create_index("ix_records_school_id", "records", ["school_id"])
    op.create_index("ix_records_student_id", "records", ["student_id"])
    op.create_index("ix_records_parent_id", "records", ["parent_id"])
    op.create_index("ix_records_cursor", "records", ["cursor"])
    op.create_table(
        "superseded_values",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", Json, nullable=True),
        sa.Column("hlc", Hlc, nullable=False),
        sa.Column("written_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("recorded_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_superseded_values"),
    )
    op.create_index("ix_superseded_values_record_id", "superseded_values", ["record_id"])
    op.create_table(
        "applied_ops",
        sa.Column("op_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("applied_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("op_id", "device_id", name="pk_applied_ops"),
    )
    op.create_table(
        "scope_events",
        sa.Column("cursor", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("student_id", Id, nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("section_id", Id, nullable=True),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("cursor", name="pk_scope_events"),
    )
    op.create_index("ix_scope_events_school_id", "scope_events", ["school_id"])
    op.create_index("ix_scope_events_section_id", "scope_events", ["section_id"])
    op.create_table(
        "grid_versions",
        sa.Column("version", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("grid", Json, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_grid_versions"),
    )
    op.create_index("ix_grid_versions_cursor", "grid_versions", ["cursor"])
    op.create_table(
        "district_config",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", Json, nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_district_config"),
    )
    op.create_index("ix_district_config_cursor", "district_config", ["cursor"])


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
