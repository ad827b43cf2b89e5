"""What every report starts from: the filters checked against the database and the caller's
scope, the period, the district config and the SQL conditions the filters make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables
from district.db import read_school_year_start
from district.summaries.config import read_summary_config
from schema.schoolyear import school_year_for
from schema.summaries import (
    NOT_REPORTED,
    RACE_FLAG_CATEGORIES,
    FilterError,
    SummaryConfig,
    SummaryFilters,
)


class ScopeError(FilterError):
    """The caller asked for a school outside its scope (HTTP 403)."""


@dataclass(frozen=True)
class Context:
    connection: Connection
    filters: SummaryFilters
    school_id: str | None
    """The school the report covers; None for the whole district."""
    first: date
    last: date
    config: SummaryConfig
    now: datetime
    year_start: date
    """The district's school-year start, read once for the report."""
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What a report works out once from the database about its period (district.summaries
    .rolled keeps the span the kept counts answer here)."""

    @property
    def scope_label(self) -> str:
        return self.school_id or "district"


def _known_school(connection: Connection, school_id: str) -> bool:
    orgs, students = tables.orgs, tables.students
    if connection.execute(
        sa.select(orgs.c.sourced_id).where(orgs.c.sourced_id == school_id)
    ).first():
        return True
    found = connection.execute(
        sa.select(students.c.sourced_id).where(students.c.school_id == school_id).limit(1)
    ).first()
    return found is not None


def resolve(
    connection: Connection,
    filters: SummaryFilters,
    scope: str | None,
    now: datetime | None = None,
) -> Context:
    """Check the filters and fill in the defaults. ``scope`` is the one school the caller may
    see, or None for a district-wide caller."""
    if scope is not None and filters.school_id not in (None, scope):
        raise ScopeError(f"summaries only for your own school ({scope})")
    school_id = filters.school_id or scope
    if school_id is not None and not _known_school(connection, school_id):
        raise FilterError(f"unknown school {school_id!r}")
    config = read_summary_config(connection)
    moment = now or datetime.now(UTC)
    today = moment.astimezone(ZoneInfo(config.calendar.time_zone)).date()
    start = read_school_year_start(connection)
    first, last = filters.date_from, filters.date_to
    if first is None:
        first = school_year_for(last or today, start).start
    if last is None:
        last = school_year_for(first, start).end - timedelta(days=1)
    if first > last:
        raise FilterError(f"from ({first}) is after to ({last})")
    return Context(connection, filters, school_id, first, last, config, moment, start)


def group_condition(
    filters: SummaryFilters, student: sa.ColumnElement[str]
) -> sa.ColumnElement[bool] | None:
    """The SQL form of ``filters.group``: the student named by ``student`` is in the group.
    Matches :func:`district.summaries.population.load_students`' grouping."""
    dimension, value = filters.group_dimension, filters.group_value
    if dimension is None or value is None:
        return None
    students, demographics = tables.students, tables.demographics
    if dimension == "iep":
        return student.in_(
            sa.select(students.c.sourced_id).where(students.c.iep.is_(value == "yes"))
        )
    if dimension == "grade":
        return student.in_(sa.select(students.c.sourced_id).where(students.c.grade == value))
    if dimension == "sex":
        sex = sa.func.lower(sa.func.trim(demographics.c.sex))
        reported = sa.select(demographics.c.student_id).where(sex.is_not(None), sex != "")
        if value == NOT_REPORTED:
            return student.not_in(reported)
        return student.in_(sa.select(demographics.c.student_id).where(sex == value))
    return _race_condition(value, student)


def _race_condition(value: str, student: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    demographics = tables.demographics
    race = sa.cast(demographics.c.race, sa.Text)
    hispanic = demographics.c.hispanic_or_latino.is_(True)
    not_hispanic = sa.or_(
        demographics.c.hispanic_or_latino.is_(None), demographics.c.hispanic_or_latino.is_(False)
    )
    singles = {category: f'["{flag}"]' for flag, category in RACE_FLAG_CATEGORIES.items()}
    chosen = sa.select(demographics.c.student_id)
    if value == "hispanic_or_latino":
        return student.in_(chosen.where(hispanic))
    if value in singles:
        return student.in_(chosen.where(not_hispanic, race == singles[value]))
    if value == "two_or_more_races":
        return student.in_(chosen.where(not_hispanic, race.not_in(["[]", *singles.values()])))
    assert value == NOT_REPORTED
    return student.not_in(chosen.where(sa.or_(hispanic, race != "[]")))


def incident_conditions(context: Context, *, voided: bool = False) -> list[sa.ColumnElement[bool]]:
    """Counted incidents: live (no tombstone), not voided, Level 2 or above (Level 1 never
    reaches the server, and is never counted if it somehow did), in the filters. With
    ``voided``, the voided ones instead (counted apart, never with the others)."""
    table = tables.incidents
    filters = context.filters
    conditions: list[sa.ColumnElement[bool]] = [
        table.c.tombstone.is_(False),
        table.c.voided_at.is_not(None) if voided else table.c.voided_at.is_(None),
        table.c.level >= 2,
        table.c.local_date >= context.first,
        table.c.local_date <= context.last,
    ]
    if context.school_id is not None:
        conditions.append(table.c.school_id == context.school_id)
    if filters.grade is not None:
        conditions.append(table.c.student_grade == filters.grade)
    if filters.level is not None:
        conditions.append(table.c.level == filters.level)
    group = group_condition(filters, table.c.student_id)
    if group is not None:
        conditions.append(group)
    return conditions


def _live_in_filters(context: Context, table: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Live, not voided records of ``table`` on a school-local day in the period, in the
    school, grade and group filters."""
    filters = context.filters
    conditions: list[sa.ColumnElement[bool]] = [
        table.c.tombstone.is_(False),
        table.c.voided_at.is_(None),
        table.c.local_date >= context.first,
        table.c.local_date <= context.last,
    ]
    if context.school_id is not None:
        conditions.append(table.c.school_id == context.school_id)
    if filters.grade is not None:
        conditions.append(table.c.student_grade == filters.grade)
    group = group_condition(filters, table.c.student_id)
    if group is not None:
        conditions.append(group)
    return conditions


def referral_conditions(context: Context) -> list[sa.ColumnElement[bool]]:
    """Counted office referrals (R10): live, not voided, by the school-local day the student was
    sent, in the filters. A level filter selects the level the office decided (3-5): a referral
    still awaiting its decision has none, and none is Level 2."""
    table = tables.office_referrals
    conditions = _live_in_filters(context, table)
    if context.filters.level is not None:
        conditions.append(table.c.decided_level == context.filters.level)
    return conditions


def tab_conditions(context: Context) -> list[sa.ColumnElement[bool]]:
    """Counted Take a Break events: live, not voided, in the filters (a level filter does not
    apply to a TAB, which has no level)."""
    return _live_in_filters(context, tables.tab_events)


def behavior_names(connection: Connection) -> dict[str, str]:
    """Behavior names by code from the newest grid."""
    table = tables.grid_versions
    row = connection.execute(
        sa.select(table.c.grid).order_by(table.c.version.desc()).limit(1)
    ).first()
    names: dict[str, str] = {}
    if row is not None:
        entries: list[dict[str, Any]] = row[0].get("entries", [])
        for entry in entries:
            names.setdefault(str(entry.get("code")), str(entry.get("behavior")))
    return names
