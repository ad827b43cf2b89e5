"""Typed tables for incidents, TAB events and follow-ups, filled from the ``records`` table.

Every field a device syncs gets its own column, beside the values reports group on (the
student's grade when the record was logged, the school-local date, hour and weekday, ISS and
removal, TAB minutes). Existing rows are copied over with those values computed: local times
from the record's own time zone (UTC when it names none the server knows), grades from the
roster as it stands. A value that does not fit its new column (a code or time zone name longer
than 64 characters, which no device writes) is cut to fit. The ``records`` table is dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Id = sa.String(255)
Hlc = sa.String(120)
Moment = sa.DateTime(timezone=True)
BATCH = 1000

SHAPES: dict[str, dict[str, str]] = {
    "incident": {
        "student_id": "id", "staff_id": "id", "device_id": "id", "behavior_code": "code",
        "level": "int", "actions": "actions", "occurred_at": "moment", "tz": "zone",
        "location": "text", "motivation": "text", "others_involved": "text", "note": "text",
        "iss_days": "float", "iss_safeguards": "safeguards", "iss_recorded_as_removal": "bool",
        "advised_level": "int", "progression_bypassed": "bool", "bypass_reason": "text",
        "group_id": "id", "created_at": "moment", "updated_at": "moment",
        "voided_at": "moment", "void_reason": "text",
    },
    "tab": {
        "student_id": "id", "staff_id": "id", "device_id": "id", "kind": "choice",
        "started_by": "choice", "started_at": "moment", "ended_at": "moment",
        "returned_ready": "bool", "reflection": "text", "incident_id": "id", "note": "text",
        "tz": "zone", "voided_at": "moment", "void_reason": "text",
    },
    "follow_up": {
        "incident_id": "id", "kind": "choice", "created_at": "moment", "done_at": "moment",
        "done_by": "id", "note": "text", "voided_at": "moment",
    },
}  # fmt: skip
"""The fields of each kind at this revision, and how each is stored."""
SAFEGUARDS = ("school_work", "special_education_services", "peer_without_disability")
TABLES = {"incident": "incidents", "tab": "tab_events", "follow_up": "follow_ups"}
LIMITS = {"id": 255, "code": 64, "zone": 64, "choice": 32}


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_device_id", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("student_grade", sa.String(32), nullable=True),
        sa.Column("student_id", Id, nullable=True),
        sa.Column("staff_id", Id, nullable=True),
        sa.Column("device_id", Id, nullable=True),
        sa.Column("behavior_code", sa.String(64), nullable=True),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("actions", sa.Text, nullable=True),
        sa.Column("occurred_at", Moment, nullable=True),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("location", sa.Text, nullable=True),
        sa.Column("motivation", sa.Text, nullable=True),
        sa.Column("others_involved", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("iss_days", sa.Float, nullable=True),
        sa.Column("iss_safeguards_school_work", sa.Boolean, nullable=True),
        sa.Column("iss_safeguards_special_education_services", sa.Boolean, nullable=True),
        sa.Column("iss_safeguards_peer_without_disability", sa.Boolean, nullable=True),
        sa.Column("iss_recorded_as_removal", sa.Boolean, nullable=True),
        sa.Column("advised_level", sa.Integer, nullable=True),
        sa.Column("progression_bypassed", sa.Boolean, nullable=True),
        sa.Column("bypass_reason", sa.Text, nullable=True),
        sa.Column("group_id", Id, nullable=True),
        sa.Column("created_at", Moment, nullable=True),
        sa.Column("updated_at", Moment, nullable=True),
        sa.Column("voided_at", Moment, nullable=True),
        sa.Column("void_reason", sa.Text, nullable=True),
        sa.Column("local_date", sa.Date, nullable=True),
        sa.Column("local_hour", sa.SmallInteger, nullable=True),
        sa.Column("local_weekday", sa.SmallInteger, nullable=True),
        sa.Column("is_iss", sa.Boolean, nullable=True),
        sa.Column("is_removal", sa.Boolean, nullable=True),
        sa.Column("removal_minutes", sa.Integer, nullable=True),
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("tombstone", sa.Boolean, nullable=False),
        sa.Column("tombstone_hlc", Hlc, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("stored_at", Moment, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_device_id"], ["devices.id"], name="fk_incidents_owner_device_id_devices"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_cursor", "incidents", ["cursor"])
    op.create_index("ix_incidents_owner_device_id", "incidents", ["owner_device_id"])
    op.create_index(
        "ix_incidents_school_id_behavior_code_local_date",
        "incidents",
        ["school_id", "behavior_code", "local_date"],
    )
    op.create_index("ix_incidents_school_id_local_date", "incidents", ["school_id", "local_date"])
    op.create_index("ix_incidents_school_id_local_hour", "incidents", ["school_id", "local_hour"])
    op.create_index(
        "ix_incidents_school_id_local_weekday", "incidents", ["school_id", "local_weekday"]
    )
    op.create_index("ix_incidents_school_id_location", "incidents", ["school_id", "location"])
    op.create_index(
        "ix_incidents_school_id_progression_bypassed",
        "incidents",
        ["school_id", "progression_bypassed"],
    )
    op.create_index(
        "ix_incidents_student_grade_local_date", "incidents", ["student_grade", "local_date"]
    )
    op.create_index(
        "ix_incidents_student_id_occurred_at", "incidents", ["student_id", "occurred_at"]
    )
    op.create_table(
        "tab_events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_device_id", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("student_grade", sa.String(32), nullable=True),
        sa.Column("student_id", Id, nullable=True),
        sa.Column("staff_id", Id, nullable=True),
        sa.Column("device_id", Id, nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("started_by", sa.String(32), nullable=True),
        sa.Column("started_at", Moment, nullable=True),
        sa.Column("ended_at", Moment, nullable=True),
        sa.Column("returned_ready", sa.Boolean, nullable=True),
        sa.Column("reflection", sa.Text, nullable=True),
        sa.Column("incident_id", Id, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("voided_at", Moment, nullable=True),
        sa.Column("void_reason", sa.Text, nullable=True),
        sa.Column("local_date", sa.Date, nullable=True),
        sa.Column("local_hour", sa.SmallInteger, nullable=True),
        sa.Column("local_weekday", sa.SmallInteger, nullable=True),
        sa.Column("minutes", sa.Float, nullable=True),
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("tombstone", sa.Boolean, nullable=False),
        sa.Column("tombstone_hlc", Hlc, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("stored_at", Moment, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_device_id"], ["devices.id"], name="fk_tab_events_owner_device_id_devices"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tab_events"),
    )
    op.create_index("ix_tab_events_cursor", "tab_events", ["cursor"])
    op.create_index("ix_tab_events_incident_id", "tab_events", ["incident_id"])
    op.create_index("ix_tab_events_owner_device_id", "tab_events", ["owner_device_id"])
    op.create_index("ix_tab_events_school_id_kind", "tab_events", ["school_id", "kind"])
    op.create_index("ix_tab_events_school_id_local_date", "tab_events", ["school_id", "local_date"])
    op.create_index(
        "ix_tab_events_student_id_started_at", "tab_events", ["student_id", "started_at"]
    )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_device_id", sa.String(64), nullable=False),
        sa.Column("school_id", Id, nullable=True),
        sa.Column("student_id", Id, nullable=True),
        sa.Column("incident_id", Id, nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("created_at", Moment, nullable=True),
        sa.Column("done_at", Moment, nullable=True),
        sa.Column("done_by", Id, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("voided_at", Moment, nullable=True),
        sa.Column("due_at", Moment, nullable=True),
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("tombstone", sa.Boolean, nullable=False),
        sa.Column("tombstone_hlc", Hlc, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("stored_at", Moment, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_device_id"], ["devices.id"], name="fk_follow_ups_owner_device_id_devices"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
    )
    op.create_index("ix_follow_ups_cursor", "follow_ups", ["cursor"])
    op.create_index("ix_follow_ups_incident_id", "follow_ups", ["incident_id"])
    op.create_index("ix_follow_ups_owner_device_id", "follow_ups", ["owner_device_id"])
    op.create_index("ix_follow_ups_school_id_due_at", "follow_ups", ["school_id", "due_at"])
    op.create_index(
        "ix_follow_ups_school_id_kind_done_at", "follow_ups", ["school_id", "kind", "done_at"]
    )
    op.create_index("ix_follow_ups_student_id", "follow_ups", ["student_id"])
    _backfill()
    op.drop_index("ix_records_cursor", table_name="records")
    op.drop_index("ix_records_parent_id", table_name="records")
    op.drop_index("ix_records_student_id", table_name="records")
    op.drop_index("ix_records_school_id", table_name="records")
    op.drop_table("records")


def downgrade() -> None:
    raise NotImplementedError("the district database's migrations run forward only")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _zone(name: Any) -> ZoneInfo:
    if isinstance(name, str) and name and "." not in name and not name.startswith("/"):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _column_value(shape: str, value: Any) -> Any:
    if value is None:
        return None
    if shape == "moment":
        return _moment(value)
    if shape == "actions":
        return ",".join(str(action) for action in value) if isinstance(value, list) else None
    if shape == "bool":
        return bool(value)
    if shape == "int":
        return int(value) if isinstance(value, int | float) else None
    if shape == "float":
        return float(value) if isinstance(value, int | float) else None
    text = str(value)
    return text[: LIMITS[shape]] if shape in LIMITS else text


def _typed_row(row: Any, grades: dict[str, str]) -> dict[str, Any]:
    kind = row.kind
    live = not row.tombstone
    fields: dict[str, Any] = dict(row.fields or {}) if live else {}
    clocks: dict[str, Any] = dict(row.field_hlc or {}) if live else {}
    typed: dict[str, Any] = {
        "id": row.id,
        "owner_device_id": row.owner_device_id,
        "school_id": row.school_id,
        "student_id": row.student_id if live else None,
        "field_hlc": {name: clocks.get(name, "") for name in fields if name in SHAPES[kind]}
        if live
        else None,
        "tombstone": bool(row.tombstone),
        "tombstone_hlc": row.tombstone_hlc,
        "cursor": row.cursor,
        "stored_at": row.created_at,
        "changed_at": row.updated_at,
    }
    for name, shape in SHAPES[kind].items():
        if shape == "safeguards":
            given = fields.get(name)
            for safeguard in SAFEGUARDS:
                typed[f"{name}_{safeguard}"] = (
                    bool(given.get(safeguard)) if isinstance(given, dict) else None
                )
        elif name != "student_id" or kind == "follow_up":
            typed[name] = _column_value(shape, fields.get(name))
    if kind == "follow_up":
        typed["student_id"] = row.student_id if live else None
        typed["due_at"] = None
        return typed
    typed["student_grade"] = grades.get(row.student_id) if live and row.student_id else None
    moment = _moment(fields.get("occurred_at" if kind == "incident" else "started_at"))
    local = moment.astimezone(_zone(fields.get("tz"))) if moment is not None else None
    typed["local_date"] = local.date() if local else None
    typed["local_hour"] = local.hour if local else None
    typed["local_weekday"] = local.weekday() if local else None
    if kind == "incident":
        actions = {str(action) for action in fields.get("actions") or []}
        as_removal = bool(fields.get("iss_recorded_as_removal"))
        typed["is_iss"] = ("iss" in actions and not as_removal) if live else None
        typed["is_removal"] = (
            ("removal" in actions or ("iss" in actions and as_removal)) if live else None
        )
        typed["removal_minutes"] = None
    else:
        ended = _moment(fields.get("ended_at"))
        typed["minutes"] = (
            (ended - moment).total_seconds() / 60 if live and moment and ended else None
        )
    return typed


def _backfill() -> None:
    bind = op.get_bind()
    metadata = sa.MetaData()
    records = sa.Table("records", metadata, autoload_with=bind)
    students = sa.Table("students", metadata, autoload_with=bind)
    targets = {kind: sa.Table(name, metadata, autoload_with=bind) for kind, name in TABLES.items()}
    grades = {
        row.sourced_id: row.grade
        for row in bind.execute(sa.select(students.c.sourced_id, students.c.grade))
        if row.grade
    }
    last = ""
    while True:
        rows = bind.execute(
            sa.select(records).where(records.c.id > last).order_by(records.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        batches: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.kind in TABLES:
                batches.setdefault(row.kind, []).append(_typed_row(row, grades))
        for kind, typed in batches.items():
            bind.execute(sa.insert(targets[kind]), typed)
        last = rows[-1].id
