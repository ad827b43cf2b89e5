"""The server's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

Every row a device may pull carries ``cursor``: the value of the one-row ``change_counter`` at
the write that last changed it (see ``district.db.write_transaction``). Rows are soft-deleted
(``deleted``) so a removal can travel as a change like any other.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from schema.contract import (
    MAX_SHORT_TEXT_CHARS,
    FollowUpRecord,
    IncidentRecord,
    InterventionRecord,
    OfficeReferralRecord,
    SupportRequestRecord,
    SyncRecord,
    TabRecord,
    field_shapes,
)
from schema.fields import SAFEGUARDS, Shape

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Id = sa.String(255)
Hlc = sa.String(120)
Moment = sa.DateTime(timezone=True)

change_counter = sa.Table(
    "change_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger, nullable=False),
)

orgs = sa.Table(
    "orgs",
    metadata,
    sa.Column("sourced_id", Id, primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False),
)

students = sa.Table(
    "students",
    metadata,
    sa.Column("sourced_id", Id, primary_key=True),
    sa.Column("given_name", sa.String(500), nullable=False),
    sa.Column("family_name", sa.String(500), nullable=False),
    sa.Column("grade", sa.String(32), nullable=False),
    sa.Column("iep", sa.Boolean, nullable=False),
    sa.Column("school_id", Id, nullable=True, index=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
)

demographics = sa.Table(
    "demographics",
    metadata,
    sa.Column(
        "student_id", Id, sa.ForeignKey("students.sourced_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("birth_date", sa.Date, nullable=True),
    sa.Column("sex", sa.String(64), nullable=True),
    sa.Column("race", Json, nullable=False),
    sa.Column("hispanic_or_latino", sa.Boolean, nullable=True),
)

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("sourced_id", Id, primary_key=True),
    sa.Column("given_name", sa.String(500), nullable=False),
    sa.Column("family_name", sa.String(500), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("school_id", Id, nullable=True, index=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
)

sections = sa.Table(
    "sections",
    metadata,
    sa.Column("sourced_id", Id, primary_key=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("school_id", Id, nullable=True, index=True),
    sa.Column("course_title", sa.String(500), nullable=False),
    sa.Column("periods", sa.String(500), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
)

enrollments = sa.Table(
    "enrollments",
    metadata,
    sa.Column("section_id", Id, primary_key=True),
    sa.Column("user_id", Id, primary_key=True, index=True),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("is_primary", sa.Boolean, nullable=False),
    sa.Column("school_id", Id, nullable=True, index=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("school_id", Id, nullable=True, index=True),
    sa.Column("district_scope", sa.Boolean, nullable=False),
    sa.Column("staff_id", Id, nullable=True),
    sa.Column("section_ids", Json, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("revoked_at", Moment, nullable=True),
    sa.Column("last_seen_at", Moment, nullable=True),
)

enrollment_codes = sa.Table(
    "enrollment_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("school_id", Id, nullable=True),
    sa.Column("district_scope", sa.Boolean, nullable=False),
    sa.Column("staff_id", Id, nullable=True),
    sa.Column("section_ids", Json, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("expires_at", Moment, nullable=False),
    sa.Column("used_at", Moment, nullable=True),
    sa.Column("used_by", sa.String(64), nullable=True),
)

_COLUMN_TYPES: dict[Shape, sa.types.TypeEngine[Any]] = {
    "id": Id,
    "code": sa.String(64),
    "text": sa.Text(),
    "int": sa.Integer(),
    "float": sa.Float(),
    "bool": sa.Boolean(),
    "moment": Moment,
    "zone": sa.String(64),
    "choice": sa.String(32),
    "actions": sa.Text(),
    "ids": Json,
    "date": sa.Date(),
    "texts": Json,
}


def safeguard_column(field: str, safeguard: str) -> str:
    return f"{field}_{safeguard}"


def content_columns(model: type[SyncRecord]) -> list[sa.Column[Any]]:
    """One nullable column per field of a kind's contract model (the ISS safeguards object as
    one boolean column per safeguard; the actions list as text, names joined by commas)."""
    columns: list[sa.Column[Any]] = []
    for name, shape in field_shapes(model).items():
        if shape == "safeguards":
            columns += [
                sa.Column(safeguard_column(name, safeguard), sa.Boolean, nullable=True)
                for safeguard in SAFEGUARDS
            ]
        else:
            columns.append(sa.Column(name, _COLUMN_TYPES[shape], nullable=True))
    return columns


def _sync_columns() -> list[sa.Column[Any]]:
    """What sync needs beside the content: per-field clocks, the tombstone, the cursor, and
    when the server stored and last changed the row."""
    return [
        sa.Column("field_hlc", Json, nullable=True),
        sa.Column("tombstone", sa.Boolean, nullable=False),
        sa.Column("tombstone_hlc", Hlc, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
        sa.Column("stored_at", Moment, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
    ]


def _local_time_columns() -> list[sa.Column[Any]]:
    """The record's moment in its own time zone, for reports by school day, hour and weekday."""
    return [
        sa.Column("local_date", sa.Date, nullable=True),
        sa.Column("local_hour", sa.SmallInteger, nullable=True),
        sa.Column("local_weekday", sa.SmallInteger, nullable=True),
    ]


def _owner() -> sa.Column[str]:
    return sa.Column(
        "owner_device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False, index=True
    )


incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _owner(),
    sa.Column("school_id", Id, nullable=True),
    sa.Column("student_grade", sa.String(32), nullable=True),
    *content_columns(IncidentRecord),
    *_local_time_columns(),
    sa.Column("is_iss", sa.Boolean, nullable=True),
    sa.Column("is_removal", sa.Boolean, nullable=True),
    *_sync_columns(),
    sa.Index(None, "school_id", "local_date"),
    sa.Index(None, "student_id", "occurred_at"),
    sa.Index(None, "school_id", "behavior_code", "local_date"),
    sa.Index(None, "school_id", "location"),
    sa.Index(None, "school_id", "local_hour"),
    sa.Index(None, "school_id", "local_weekday"),
    sa.Index(None, "school_id", "progression_bypassed"),
    sa.Index(None, "student_grade", "local_date"),
)
"""Level 2 incidents in typed columns. A tombstone keeps id, owner, school, its clock and the
cursor: every content column is NULL."""

tab_events = sa.Table(
    "tab_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _owner(),
    sa.Column("school_id", Id, nullable=True),
    sa.Column("student_grade", sa.String(32), nullable=True),
    *content_columns(TabRecord),
    *_local_time_columns(),
    sa.Column("minutes", sa.Float, nullable=True),
    *_sync_columns(),
    sa.Index(None, "school_id", "local_date"),
    sa.Index(None, "student_id", "started_at"),
    sa.Index(None, "incident_id"),
    sa.Index(None, "school_id", "kind"),
)
"""Take a Break events in typed columns; a tombstone keeps no content."""

follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _owner(),
    sa.Column("school_id", Id, nullable=True),
    sa.Column("student_id", Id, nullable=True, index=True),
    *(column for column in content_columns(FollowUpRecord) if column.name != "student_id"),
    *_sync_columns(),
    sa.Index(None, "incident_id"),
    sa.Index(None, "school_id", "kind", "done_at"),
    sa.Index(None, "school_id", "due_at"),
)
"""Follow-ups of Level 2 incidents in typed columns; ``student_id`` is their incident's.
``due_at`` is the follow-up's due date (R6), set by the device."""


interventions = sa.Table(
    "interventions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _owner(),
    sa.Column("school_id", Id, nullable=True),
    sa.Column("student_grade", sa.String(32), nullable=True),
    *content_columns(InterventionRecord),
    *_sync_columns(),
    sa.Index(None, "student_id", "starts_on"),
    sa.Index(None, "incident_id"),
    sa.Index(None, "school_id", "starts_on"),
)
"""Interventions (R5) in typed columns; only those that answer no Level 1 record ever arrive.
A tombstone keeps no content."""

office_referrals = sa.Table(
    "office_referrals",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _owner(),
    sa.Column("school_id", Id, nullable=True),
    sa.Column("student_grade", sa.String(32), nullable=True),
    *content_columns(OfficeReferralRecord),
    *_local_time_columns(),
    *_sync_columns(),
    sa.Index(None, "school_id", "local_date"),
    sa.Index(None, "student_id", "occurred_at"),
    sa.Index(None, "school_id", "decided_level"),
    sa.Index(None, "student_grade", "local_date"),
)
"""Office referrals (R10) in typed columns, with the office's decision; a tombstone keeps no
content."""


def _counted(table: sa.Table) -> dict[str, Any]:
    """The partial-index condition of the rows summaries count: live and not voided (written as
    the summaries' queries write it, so both databases see that the index applies)."""
    condition = sa.and_(table.c.tombstone.is_(False), table.c.voided_at.is_(None))
    return {"sqlite_where": condition, "postgresql_where": condition}


_SUMMARY_INCIDENT_COLUMNS = (
    "level", "student_grade", "student_id", "behavior_code", "location", "local_hour",
    "is_removal", "is_iss", "progression_bypassed", "iss_days", "removal_minutes", "tombstone",
    "voided_at", "id",
)  # fmt: skip
_SUMMARY_TAB_COLUMNS = (
    "student_grade", "student_id", "kind", "started_by", "returned_ready", "minutes",
    "tombstone", "voided_at",
)  # fmt: skip
_voided = sa.and_(incidents.c.tombstone.is_(False), incidents.c.voided_at.is_not(None))
_withdrawn = incidents.c.tombstone.is_(True)
SUMMARY_INDEXES = (
    sa.Index("ix_incidents_summary_school", incidents.c.school_id, incidents.c.local_date,
             *(incidents.c[name] for name in _SUMMARY_INCIDENT_COLUMNS), **_counted(incidents)),
    sa.Index("ix_incidents_summary_date", incidents.c.local_date, incidents.c.school_id,
             *(incidents.c[name] for name in _SUMMARY_INCIDENT_COLUMNS), **_counted(incidents)),
    sa.Index("ix_tab_events_summary_school", tab_events.c.school_id, tab_events.c.local_date,
             *(tab_events.c[name] for name in _SUMMARY_TAB_COLUMNS), **_counted(tab_events)),
    sa.Index("ix_tab_events_summary_date", tab_events.c.local_date, tab_events.c.school_id,
             *(tab_events.c[name] for name in _SUMMARY_TAB_COLUMNS), **_counted(tab_events)),
    sa.Index("ix_incidents_summary_voided", incidents.c.local_date, incidents.c.school_id,
             incidents.c.level, incidents.c.student_grade, incidents.c.student_id,
             incidents.c.tombstone, incidents.c.voided_at,
             sqlite_where=_voided, postgresql_where=_voided),
    sa.Index("ix_incidents_summary_withdrawn", incidents.c.school_id, incidents.c.tombstone,
             sqlite_where=_withdrawn, postgresql_where=_withdrawn),
    sa.Index("ix_follow_ups_summary", follow_ups.c.incident_id, follow_ups.c.kind,
             follow_ups.c.done_at, follow_ups.c.created_at, follow_ups.c.due_at,
             follow_ups.c.tombstone, follow_ups.c.voided_at),
)  # fmt: skip
"""Covering partial indexes for the administrators' summaries (district/summaries): a report
reads only these, never the wide rows, whether it covers one school or the whole district."""

_open = sa.and_(
    follow_ups.c.done_at.is_(None),
    follow_ups.c.tombstone.is_(False),
    follow_ups.c.voided_at.is_(None),
)
OPEN_FOLLOW_UPS_INDEX = sa.Index(
    "ix_follow_ups_open_due", follow_ups.c.due_at, follow_ups.c.incident_id, follow_ups.c.kind,
    sqlite_where=_open, postgresql_where=_open,
)  # fmt: skip
"""Live open follow-ups by due moment: the follow-ups report counts the ones due between the
start of today (UTC) and now from here (the counts kept on write hold the earlier days)."""

ROLLUP_SUMS = (
    "incidents", "removals", "removal_minutes", "timed_removals", "iss", "iss_microdays",
    "bypasses", "voided",
)  # fmt: skip
ROLLUP_STUDENT_SUMS = (
    "incidents", "removals", "iss", "tabs", "tab_outs", "tab_out_seconds", "tab_seconds",
    "tabs_spot", "tabs_out", "tabs_out_and_back", "tabs_by_student", "tabs_by_teacher",
    "tabs_ready", "tabs_not_ready", "tabs_ready_unknown",
)  # fmt: skip
rollup_incidents = sa.Table(
    "rollup_incidents",
    metadata,
    sa.Column("grouping", sa.String(16), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("school_id", Id, primary_key=True),
    sa.Column("key", sa.String(MAX_SHORT_TEXT_CHARS), primary_key=True),
    *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in ROLLUP_SUMS),
    sqlite_with_rowid=False,
)  # fmt: skip
"""Counted incidents per school, month and one grouping (``day``, ``behavior``, ``location``,
``hour``), kept exact on write (district/summaries/rollup.py). A key holds a whole location, as
long as the contract lets one be."""

REPEATED_PAIR = "behavior_code != '' AND incidents >= 2"
"""A student-behavior pair of ``rollup_students`` with two or more incidents (a repeat)."""

rollup_students = sa.Table(
    "rollup_students",
    metadata,
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("scope", Id, primary_key=True),
    sa.Column("behavior_code", sa.String(64), primary_key=True),
    sa.Column("student_id", Id, primary_key=True),
    *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
      for name in ROLLUP_STUDENT_SUMS),
    sa.Index(
        "ix_rollup_students_pairs", "period", "scope", "incidents", "student_id", "behavior_code",
        sqlite_where=sa.text("behavior_code != ''"),
        postgresql_where=sa.text("behavior_code != ''"),
    ),
    sa.Index(
        "ix_rollup_students_repeats",
        "period", "scope", "student_id", "incidents", "behavior_code",
        sqlite_where=sa.text(REPEATED_PAIR),
        postgresql_where=sa.text(REPEATED_PAIR),
    ),
    sqlite_with_rowid=False,
)  # fmt: skip
"""Counted incidents and Take a Breaks per period (``M2025-09-01``: a month, or the part of one
within a school year; ``Y2025-07-01``: the school year), scope (a school or ``*``), behavior
(``""``: all, with the TABs; one behavior: school years only) and student, kept exact on write
(district/summaries/rollup.py). Keyed behavior before student, so a report reads the students'
totals as one range; the student-behavior pairs are also indexed by their count, for the
progression report's most repeated pairs, and the repeated pairs by student, for its count of
students with a repeat."""

rollup_tabs = sa.Table(
    "rollup_tabs",
    metadata,
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("scope", Id, primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("started_by", sa.String(32), primary_key=True),
    sa.Column("returned_ready", sa.String(8), primary_key=True),
    sa.Column("tenths", sa.Integer, primary_key=True),
    sa.Column("events", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("seconds", sa.BigInteger, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)
"""Counted Take a Breaks per period (a part of a month, ``M2025-09-01``, or the school year,
``Y2025-07-01``), scope (a school or ``*``), kind, who started it, whether the student returned
ready (``yes``, ``no``, ``""``) and length in tenths of a minute (-1: not ended), with their length
in whole seconds; kept exact on write (district/summaries/rollup.py)."""

rollup_follow_ups = sa.Table(
    "rollup_follow_ups",
    metadata,
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("scope", Id, primary_key=True),
    sa.Column("grain", sa.SmallInteger, primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("minutes", sa.Integer, primary_key=True),
    sa.Column("due_day", sa.Date, primary_key=True),
    sa.Column("follow_ups", sa.BigInteger, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)
"""Counted follow-ups (live, not voided, of a counted incident) per period of their incident
(``M2025-09`` or the school year ``Y2025-07-01``), scope (the incident's school or ``*``), grain
(60: whole minutes from created to done rounded down to the hour, or -1 while open; 1: whole
minutes, done ones only), kind, minutes and, for an open one, the UTC day it is due (9999-12-31
otherwise: never overdue); kept exact on write (district/summaries/rollup.py)."""

RECORD_TABLES: dict[str, sa.Table] = {
    "incident": incidents,
    "tab": tab_events,
    "follow_up": follow_ups,
    "intervention": interventions,
    "office_referral": office_referrals,
}

support_requests = sa.Table(
    "support_requests",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _owner(),
    *content_columns(SupportRequestRecord),
    sa.Column("field_hlc", Json, nullable=True),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
    sa.Column("stored_at", Moment, nullable=False),
    sa.Column("changed_at", Moment, nullable=False),
    sa.Index(None, "school_id", "cursor"),
    sa.Index(None, "state", "created_at"),
)
"""Support requests (R9) in typed columns, scoped by school (not by student: a request may
name none). The server decides their state: first accept wins, stale ones expire."""

CONTRACT_TABLES: dict[str, sa.Table] = {**RECORD_TABLES, "support_request": support_requests}
"""Every synced kind's typed table (``RECORD_TABLES`` holds the kinds scoped by student)."""

superseded_values = sa.Table(
    "superseded_values",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(64), nullable=False, index=True),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("value", Json, nullable=True),
    sa.Column("hlc", Hlc, nullable=False),
    sa.Column("written_by", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("recorded_at", Moment, nullable=False),
)
"""The losing side of every per-field last-writer-wins decision, kept for audit. Deleted with
the record's content on a retraction."""

applied_ops = sa.Table(
    "applied_ops",
    metadata,
    sa.Column("op_id", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("applied_at", Moment, nullable=False),
)
"""The ops already applied, for deduplication. Keyed op id first: op ids are nearly unique, so
a push's batch lookup stays an index probe per op however many ops one device has sent."""

scope_events = sa.Table(
    "scope_events",
    metadata,
    sa.Column("cursor", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("student_id", Id, nullable=False),
    sa.Column("school_id", Id, nullable=True, index=True),
    sa.Column("section_id", Id, nullable=True, index=True),
    sa.Column("record_id", sa.String(64), nullable=True),
)
"""A student (or, with ``record_id``, one record of that student) may have entered or left
some devices' scope: the pull re-decides upsert or removal for the devices it concerns."""

grid_versions = sa.Table(
    "grid_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("grid", Json, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
)

district_config = sa.Table(
    "district_config",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, index=True),
)
