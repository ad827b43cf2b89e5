"""Reading the counts kept on write (district/summaries/rollup.py) in place of the records.

They answer a report whose filters they were kept for: a school or the district, a period made of
whole months (the default, the school year, is one) or ending inside one when nothing is dated
after its end (this month so far), no grade, level or student-group filter.
Any other report reads the records themselves (:func:`usable` says which); both give the same
numbers, and a test holds them to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from district import tables
from district.summaries.context import Context
from district.summaries.rollup import (
    ALL_BEHAVIORS,
    ALL_SCHOOLS,
    HOUR_GRAIN,
    MICRO,
    MINUTE_GRAIN,
    OPEN,
    YEAR,
    bucket_of,
    month_after,
    month_period,
    year_period,
)
from schema.schoolyear import school_year_for


@lru_cache(maxsize=256)
def _buckets(first: date, last: date, year_start: date) -> tuple[date, ...] | None:
    """The parts of months the counts are kept per (``rollup.bucket_of``) from ``first`` to
    ``last``, when the two bound whole parts, else None."""
    if bucket_of(first, year_start) != first:
        return None
    buckets: list[date] = []
    bucket = first
    while bucket <= last:
        buckets.append(bucket)
        bucket = min(month_after(bucket), school_year_for(bucket, year_start).end)
    return tuple(buckets) if bucket == last + timedelta(days=1) else None


def _months(context: Context) -> tuple[date, ...] | None:
    span = _span(context)
    return None if span is None else _buckets(span[0], span[1], context.year_start)


def _span(context: Context) -> tuple[date, date] | None:
    """The first and last day the kept counts answer the report's period with: the period
    itself when it is whole parts of months; when it ends inside one (this month so far, the
    school year so far), the period run on to the end of that part, or of the school year, as
    long as nothing the counts hold is dated after the period's end within it (a record dated
    ahead of today comes only from a device's wrong clock). Else None."""
    if "span" not in context.memo:
        context.memo["span"] = _quiet_span(context)
    span: tuple[date, date] | None = context.memo["span"]
    return span


def _quiet_span(context: Context) -> tuple[date, date] | None:
    first, last, year_start = context.first, context.last, context.year_start
    whole = _buckets(first, last, year_start) is not None
    if not whole and bucket_of(first, year_start) != first:
        return None
    year = school_year_for(last, year_start)
    year_last = year.end - timedelta(days=1)
    if first == year.start and last < year_last and _nothing_dated(context, last, year_last):
        return first, year_last  # the school year so far: its year rows
    if whole:
        return first, last
    part_last = min(month_after(last), year.end) - timedelta(days=1)
    return (first, part_last) if _nothing_dated(context, last, part_last) else None


def _nothing_dated(context: Context, after: date, through: date) -> bool:
    """Whether no stored incident (counted or voided: the counts hold both) or counted Take a
    Break, of any school (the counts are kept per school and district alike), is dated after
    ``after`` through ``through``. Follow-ups count under their incident's date. Each look-up
    reads one of the summaries' partial indexes by date."""
    incidents, tabs = tables.incidents, tables.tab_events
    looks = (
        (incidents, incidents.c.voided_at.is_(None)),
        (incidents, incidents.c.voided_at.is_not(None)),
        (tabs, tabs.c.voided_at.is_(None)),
    )
    for table, voided in looks:
        dated = context.connection.execute(
            sa.select(table.c.local_date)
            .where(
                table.c.tombstone.is_(False),
                voided,
                table.c.local_date > after,
                table.c.local_date <= through,
            )
            .limit(1)
        ).first()
        if dated is not None:
            return False
    return True


def usable(context: Context, *, per_behavior: bool = False) -> bool:
    """Whether the kept counts answer the report's filters; ``per_behavior``: counts per
    student and behavior, kept for whole school years only."""
    filters = context.filters
    return (
        filters.grade is None
        and filters.level is None
        and filters.group is None
        and _months(context) is not None
        and (not per_behavior or _periods(context)[0].startswith(YEAR))
    )


@dataclass
class IncidentSums:
    incidents: int = 0
    removals: int = 0
    removal_minutes: int = 0
    timed_removals: int = 0
    iss: int = 0
    iss_days: float = 0.0
    bypasses: int = 0
    voided: int = 0


def incident_sums(
    context: Context, grouping: str, *, by_school: bool = False, having: str | None = None
) -> dict[Any, IncidentSums]:
    """Counted incidents of the report's period and school per key of ``grouping`` (``day``:
    the ISO date; ``behavior``; ``location``, ``""`` when none; ``hour``, two digits), and per
    (school, key) with ``by_school``. With ``having``, only the kept rows where that sum is not
    zero are read: that sum is whole, the others are not."""
    table = tables.rollup_incidents
    months = _months(context)
    assert months is not None
    conditions: list[sa.ColumnElement[bool]] = [
        table.c.month >= months[0],
        table.c.month <= months[-1],
        table.c.grouping == grouping,
    ]
    if context.school_id is not None:
        conditions.append(table.c.school_id == context.school_id)
    if having is not None:
        conditions.append(table.c[having] != 0)
    keys = [table.c.school_id, table.c.key] if by_school else [table.c.key]
    query = (
        sa.select(*keys, *(sa.func.sum(table.c[name]) for name in tables.ROLLUP_SUMS))
        .where(*conditions)
        .group_by(*keys)
    )
    found: dict[Any, IncidentSums] = {}
    for row in context.connection.execute(query):
        key = (row[0], row[1]) if by_school else row[0]
        values = [int(value or 0) for value in row[len(keys) :]]
        incidents, removals, minutes, timed, iss, microdays, bypasses, voided = values
        found[key] = IncidentSums(
            incidents, removals, minutes, timed, iss, microdays / MICRO, bypasses, voided
        )
    return found


def _periods(context: Context) -> list[str]:
    span, months = _span(context), _months(context)
    assert span is not None
    assert months is not None
    year = school_year_for(span[0], context.year_start)
    if span == (year.start, year.end - timedelta(days=1)):
        return [year_period(year.start)]
    return [month_period(month) for month in months]


def student_sums(
    context: Context, columns: Iterable[str], *, behaviors: bool = False
) -> sa.Select[Any]:
    """A query of (student, [behavior,] sum of each of ``columns``) over the report's period and
    scope: per behavior with ``behaviors``, else for all behaviors (with the TABs)."""
    table = tables.rollup_students
    periods = _periods(context)
    keys = [table.c.student_id, *([table.c.behavior_code] if behaviors else [])]
    conditions = [
        table.c.period.in_(periods),
        table.c.scope == (context.school_id or ALL_SCHOOLS),
        # written out, not bound, so that the pairs' partial index applies
        table.c.behavior_code != sa.literal_column("''")
        if behaviors
        else table.c.behavior_code == ALL_BEHAVIORS,
    ]
    if len(periods) == 1:
        return sa.select(*keys, *(table.c[name] for name in columns)).where(*conditions)
    return (
        sa.select(
            *keys,
            # cast: PostgreSQL's sum of bigints is a numeric, read as a Decimal
            *(sa.cast(sa.func.sum(table.c[name]), sa.BigInteger).label(name) for name in columns),
        )
        .where(*conditions)
        .group_by(*keys)
    )


def tab_lengths(context: Context) -> list[tuple[str, str, str, int, int, int]]:
    """(kind, started by, returned ready, length in tenths of a minute or -1, Take a Breaks,
    their seconds) over the report's period and scope."""
    table = tables.rollup_tabs
    periods = _periods(context)
    keys = (table.c.kind, table.c.started_by, table.c.returned_ready, table.c.tenths)
    conditions = (
        table.c.period.in_(periods),
        table.c.scope == (context.school_id or ALL_SCHOOLS),
    )
    if len(periods) == 1:
        query = sa.select(*keys, table.c.events, table.c.seconds).where(*conditions)
    else:
        query = (
            sa.select(*keys, sa.func.sum(table.c.events), sa.func.sum(table.c.seconds))
            .where(*conditions)
            .group_by(*keys)
        )
    return [
        (kind, started_by, ready, int(tenths), int(events), int(seconds))
        for kind, started_by, ready, tenths, events, seconds in context.connection.execute(
            query
        ).all()
    ]


class FollowUpCounts:
    """The kept follow-up counts of a report's period and scope (its periods looked up once)."""

    def __init__(self, context: Context) -> None:
        self.connection = context.connection
        self.periods = _periods(context)
        self.scope = context.school_id or ALL_SCHOOLS

    def by_hour(self, today: date) -> list[tuple[str, int, int, int]]:
        """(kind, whole minutes to done rounded down to the hour or ``OPEN``, follow-ups, open
        ones due on a UTC day before ``today``)."""
        table = tables.rollup_follow_ups
        keys = (table.c.kind, table.c.minutes)
        late = sa.case(
            (sa.and_(table.c.minutes == OPEN, table.c.due_day < today), table.c.follow_ups)
        )
        query = (
            sa.select(
                *keys, sa.func.sum(table.c.follow_ups), sa.func.coalesce(sa.func.sum(late), 0)
            )
            .where(
                table.c.period.in_(self.periods),
                table.c.scope == self.scope,
                table.c.grain == HOUR_GRAIN,
            )
            .group_by(*keys)
        )
        return [
            (kind, int(minutes), int(total), int(overdue))
            for kind, minutes, total, overdue in self.connection.execute(query)
        ]

    def within_hour(self, kinds: Iterable[str], hour: int) -> list[tuple[str, int, int]]:
        """(kind, whole minutes to done, follow-ups) of done follow-ups of ``kinds`` within the
        hour starting ``hour`` minutes after their creation."""
        table = tables.rollup_follow_ups
        keys = (table.c.kind, table.c.minutes)
        query = (
            sa.select(*keys, sa.func.sum(table.c.follow_ups))
            .where(
                table.c.period.in_(self.periods),
                table.c.scope == self.scope,
                table.c.grain == MINUTE_GRAIN,
                table.c.kind.in_(sorted(kinds)),
                table.c.minutes >= hour,
                table.c.minutes < hour + HOUR_GRAIN,
            )
            .group_by(*keys)
        )
        return [
            (kind, int(minutes), int(count))
            for kind, minutes, count in self.connection.execute(query)
        ]
