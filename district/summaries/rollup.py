"""Counts the summaries read instead of scanning every record: kept exact on write.

Four tables hold sums of the counted records (live, not voided; incidents at Level 2 or above;
on a school-local day; DESIGN section 6b):

- ``rollup_incidents``: per school, month and one grouping (the day, the behavior, the location,
  the hour), the incidents and their removals, ISS, bypasses, and the voided ones beside them;
- ``rollup_students``: per period (a month or a school year), scope (a school, or ``*`` for the
  district), student and behavior (``""`` for all behaviors, with the student's Take a Breaks),
  the student's incidents, removals, ISS and Take a Breaks of each kind;
- ``rollup_tabs``: per period (a month or a school year), scope, kind, who started it, whether
  the student returned ready and length in tenths of a minute, the Take a Breaks and their length
  in seconds;
- ``rollup_follow_ups``: per period of the incident (a month or a school year), scope (the
  incident's school, or ``*``), grain, kind, time to done and, for an open one, the UTC day it
  is due, the follow-ups that count (live, not voided, of a counted incident). Each is counted
  twice: at the hour grain (whole minutes to done rounded down to the hour; open ones, -1, by
  due day) and at the minute grain (done ones, whole minutes): a report sums the few hour rows
  and reads minute rows only within the hour that holds a median.

Every write of an incident, a Take a Break or a follow-up goes through
:class:`district.records.RecordSet`, whose ``flush`` hands this module each written row as it was
before the transaction and as it is after: the difference of their contributions is added in the
same transaction, so a void, a correction, a move to another student or a retraction takes its
old contribution away exactly. A follow-up counts under its incident's state: when an incident
starts or stops counting, or moves to another month or school, its stored follow-ups are read by
``incident_id`` and moved from the old place to the new one in the same transaction.
Sums that are fractions elsewhere are whole numbers here (micro-days of ISS, seconds of a Take a
Break), so adding and taking away never drifts. ``rebuild`` computes the tables from the records
(after a bulk load, or when the district's school-year start moves, which changes the periods).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables
from district.db import among, as_utc, read_school_year_start
from schema.schoolyear import school_year_for

ALL_SCHOOLS = "*"
"""The scope of ``rollup_students`` rows that count a student across the whole district."""
ALL_BEHAVIORS = ""
MICRO = 1_000_000
"""ISS days are kept in millionths of a day."""

INCIDENT_SUMS = tables.ROLLUP_SUMS
STUDENT_SUMS = tables.ROLLUP_STUDENT_SUMS
TAB_SUMS = ("events", "seconds")
TAB_OUT_KINDS = ("out", "out_and_back")
TAB_KINDS = ("spot", "out", "out_and_back")
UNKNOWN_LENGTH = -1
"""The length bucket of a Take a Break that has not ended."""

FOLLOW_UP_SUMS = ("follow_ups",)
OPEN = -1
"""The minutes bucket of a follow-up not done yet."""
HOUR_GRAIN = 60
MINUTE_GRAIN = 1
"""The grains of ``rollup_follow_ups``: done follow-ups by the hour and by the minute."""
NO_DUE_DAY = date(9999, 12, 31)
"""The due day of a kept follow-up that is done or has no due date (never overdue)."""

Target = Literal["incidents", "students", "tabs", "follow_ups"]
TARGETS: tuple[Target, ...] = ("incidents", "students", "tabs", "follow_ups")
Part = tuple[Target, tuple[tuple[Any, ...], ...], tuple[int, ...]]
"""(the table, the keys of its rows, what to add to each one's sums)."""


def tab_length(minutes: float | None) -> tuple[int, int]:
    """A Take a Break's length as the summaries count it: (whole seconds, tenths of a minute;
    ``UNKNOWN_LENGTH`` when it has not ended)."""
    if minutes is None:
        return 0, UNKNOWN_LENGTH
    return round(minutes * 60), round(minutes * 10)


def ready_key(returned_ready: bool | None) -> str:
    return "" if returned_ready is None else "yes" if returned_ready else "no"


def month_after(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_period(bucket: date) -> str:
    return f"M{bucket.isoformat()}"


@lru_cache(maxsize=4096)
def bucket_of(day: date, year_start: date) -> date:
    """The first day of the part of ``day``'s month that lies in ``day``'s school year: the
    counts are kept per such part, so that a school year starting mid-month (say 24 August)
    is made of whole parts as much as a calendar month is."""
    return max(day.replace(day=1), school_year_for(day, year_start).start)


YEAR = "Y"


def year_period(start: date) -> str:
    return f"{YEAR}{start.isoformat()}"


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _counted(row: Mapping[Any, Any]) -> bool:
    return not row["tombstone"] and row["voided_at"] is None


def _incident_parts(row: Mapping[Any, Any], year_start: date) -> Iterator[Part]:
    """What one incident row adds to the counts: (table, its keys, the sums for each)."""
    day = _day(row["local_date"])
    school = row["school_id"]
    if row["tombstone"] or day is None or school is None or (row["level"] or 0) < 2:
        return
    month = bucket_of(day, year_start)
    if row["voided_at"] is not None:
        yield "incidents", ((school, month, "day", day.isoformat()),), (0, 0, 0, 0, 0, 0, 0, 1)
        return
    removal = bool(row["is_removal"])
    minutes = row["removal_minutes"]
    iss = bool(row["is_iss"])
    days = row["iss_days"]
    sums = (
        1,
        int(removal),
        int(minutes) if removal and minutes is not None else 0,
        int(removal and minutes is not None),
        int(iss),
        round((1.0 if days is None else float(days)) * MICRO) if iss else 0,
        int(row["progression_bypassed"] is True),
        0,
    )
    hour = row["local_hour"]
    behavior = str(row["behavior_code"])
    yield (
        "incidents",
        (
            (school, month, "day", day.isoformat()),
            (school, month, "behavior", behavior),
            (school, month, "location", row["location"] or ""),
            (school, month, "hour", "" if hour is None else f"{int(hour):02d}"),
        ),
        sums,
    )
    student = row["student_id"]
    if student is None:
        return
    month_period, year = _periods(day, year_start)
    yield (
        "students",
        (
            (month_period, school, student, ALL_BEHAVIORS),
            (month_period, ALL_SCHOOLS, student, ALL_BEHAVIORS),
            (year, school, student, ALL_BEHAVIORS),
            (year, ALL_SCHOOLS, student, ALL_BEHAVIORS),
            (year, school, student, behavior),
            (year, ALL_SCHOOLS, student, behavior),
        ),
        (1, int(removal), int(iss)) + (0,) * (len(STUDENT_SUMS) - 3),
    )


@lru_cache(maxsize=4096)
def _periods(day: date, year_start: date) -> tuple[str, str]:
    """The part of a month and the school year ``day`` is counted in."""
    return month_period(bucket_of(day, year_start)), year_period(
        school_year_for(day, year_start).start
    )


def _tab_parts(row: Mapping[Any, Any], year_start: date) -> Iterator[Part]:
    """What one Take a Break row adds to the counts: (table, its keys, the sums for each)."""
    day = _day(row["local_date"])
    school, student = row["school_id"], row["student_id"]
    if not _counted(row) or day is None or school is None or student is None:
        return
    kind, started_by, ready = row["kind"], row["started_by"], ready_key(row["returned_ready"])
    seconds, tenths = tab_length(row["minutes"])
    out = kind in TAB_OUT_KINDS
    month_period, year = _periods(day, year_start)
    yield (
        "tabs",
        tuple(
            (period, scope, kind, started_by, ready, tenths)
            for period in (month_period, year)
            for scope in (school, ALL_SCHOOLS)
        ),
        (1, seconds),
    )
    yield (
        "students",
        tuple(
            (period, scope, student, ALL_BEHAVIORS)
            for period in (month_period, year)
            for scope in (school, ALL_SCHOOLS)
        ),
        (
            0, 0, 0, 1, int(out), seconds if out else 0, seconds,
            *(int(kind == name) for name in TAB_KINDS),
            int(started_by == "student"), int(started_by == "teacher"),
            int(ready == "yes"), int(ready == "no"), int(ready == ""),
        ),
    )  # fmt: skip


def utc(value: Any) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite hands back naive UTC ones)."""
    if value is None:
        return None
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def follow_up_minutes(created_at: Any, done_at: Any) -> int:
    """A follow-up's time to done as the summaries count it: whole minutes from created to done
    (rounded down, never below 0), or ``OPEN`` while it is not done."""
    done = utc(done_at)
    if done is None:
        return OPEN
    created = utc(created_at)
    if created is None:
        return 0
    return max((done - created) // timedelta(minutes=1), 0)


def follow_up_due_day(minutes: int, due_at: Any) -> date:
    """The UTC day an open follow-up is due; ``NO_DUE_DAY`` when it is done or has no due date."""
    due = utc(due_at) if minutes == OPEN else None
    return NO_DUE_DAY if due is None else due.date()


def _follow_up_place(incident: Mapping[Any, Any] | None) -> tuple[str, date] | None:
    """(school, day) of an incident whose follow-ups count, or None when they do not."""
    if incident is None or not _counted(incident) or (incident["level"] or 0) < 2:
        return None
    day, school = _day(incident["local_date"]), incident["school_id"]
    if day is None or school is None:
        return None
    return school, day


def _follow_up_parts(
    row: Mapping[Any, Any], incident: Mapping[Any, Any] | None, year_start: date
) -> Iterator[Part]:
    """What one follow-up row adds to the counts, under its incident's row: (table, its keys,
    the sums for each)."""
    where = _follow_up_place(incident)
    if where is None or not _counted(row):
        return
    school, day = where
    minutes = follow_up_minutes(row["created_at"], row["done_at"])
    due = follow_up_due_day(minutes, row["due_at"])
    kind = row["kind"]
    places = [
        (period, scope) for period in _periods(day, year_start) for scope in (school, ALL_SCHOOLS)
    ]
    if minutes == OPEN:
        yield "follow_ups", tuple((*place, HOUR_GRAIN, kind, OPEN, due) for place in places), (1,)
        return
    hour = minutes // HOUR_GRAIN * HOUR_GRAIN
    yield (
        "follow_ups",
        (
            *((*place, HOUR_GRAIN, kind, hour, NO_DUE_DAY) for place in places),
            *((*place, MINUTE_GRAIN, kind, minutes, NO_DUE_DAY) for place in places),
        ),
        (1,),
    )


class Deltas:
    """Sums to add to the tables, gathered over many rows."""

    def __init__(self, year_start: date) -> None:
        self.year_start = year_start
        self.sums: dict[Target, dict[tuple[Any, ...], list[int]]] = {
            "incidents": {},
            "students": {},
            "tabs": {},
            "follow_ups": {},
        }

    def add(self, kind: str, row: Mapping[Any, Any] | None, sign: int = 1) -> None:
        if row is None:
            return
        if kind == "incident":
            parts = _incident_parts(row, self.year_start)
        elif kind == "tab":
            parts = _tab_parts(row, self.year_start)
        else:
            return
        self._add(parts, sign)

    def add_follow_up(
        self,
        row: Mapping[Any, Any] | None,
        incident: Mapping[Any, Any] | None,
        sign: int = 1,
    ) -> None:
        """Count a follow-up row under its incident's row (as they stand together)."""
        if row is not None:
            self._add(_follow_up_parts(row, incident, self.year_start), sign)

    def _add(self, parts: Iterable[Part], sign: int) -> None:
        for target, keys, sums in parts:
            found = self.sums[target]
            signed = [sign * value for value in sums]
            changed = [(index, value) for index, value in enumerate(signed) if value]
            for key in keys:
                current = found.get(key)
                if current is None:
                    found[key] = signed.copy()
                    continue
                for index, value in changed:
                    current[index] += value

    def write(self, connection: Connection) -> None:
        for target, (table, keys, sums) in TABLES.items():
            _upsert(connection, table, keys, sums, self.sums[target])
            self.sums[target].clear()


TABLES: dict[Target, tuple[sa.Table, tuple[str, ...], tuple[str, ...]]] = {
    "incidents": (
        tables.rollup_incidents,
        ("school_id", "month", "grouping", "key"),
        INCIDENT_SUMS,
    ),
    "students": (
        tables.rollup_students,
        ("period", "scope", "student_id", "behavior_code"),
        STUDENT_SUMS,
    ),
    "tabs": (
        tables.rollup_tabs,
        ("period", "scope", "kind", "started_by", "returned_ready", "tenths"),
        TAB_SUMS,
    ),
    "follow_ups": (
        tables.rollup_follow_ups,
        ("period", "scope", "grain", "kind", "minutes", "due_day"),
        FOLLOW_UP_SUMS,
    ),
}
"""Each table, the names of a key's parts in order, and its sums."""


UPSERT_ROWS = 5_000
"""Rows a PostgreSQL statement adds at most (a rebuild adds millions)."""


def _upsert(
    connection: Connection,
    table: sa.Table,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    deltas: Mapping[tuple[Any, ...], list[int]],
) -> None:
    """Add ``deltas`` to ``table``'s rows, creating the missing ones, straight through the
    driver (the rows are plain tuples; building each one's parameters through SQLAlchemy cost
    more than the database's work). SQLite runs one prepared statement for every row;
    PostgreSQL takes every row in one statement, as one JSON array of rows (a statement per row
    cost a server round each, which more than halved a push's throughput there). In no
    particular order: every write transaction takes the change counter's row lock first, so
    two never interleave here."""
    dated = [at for at, name in enumerate(keys) if isinstance(table.c[name].type, sa.Date)]
    rows = [(*key, *values) for key, values in deltas.items() if any(values)]
    if not rows:
        return
    for at in dated:  # a date travels as its ISO text (SQLite keeps it so)
        rows = [(*row[:at], row[at].isoformat(), *row[at + 1 :]) for row in rows]
    names = (*keys, *sums)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET " + ", ".join(
        f"{name} = {table.name}.{name} + excluded.{name}" for name in sums
    )
    if connection.dialect.name == "sqlite":
        marker = ", ".join("?" * len(names))
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marker}) {conflict}", rows
        )
        return
    columns = ", ".join(
        f"(row ->> {at})::{table.c[name].type.compile(dialect=connection.dialect)}"
        for at, name in enumerate(names)
    )
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {columns}"
        f" FROM jsonb_array_elements(%s::jsonb) AS row WHERE true {conflict}"
    )
    for start in range(0, len(rows), UPSERT_ROWS):
        connection.exec_driver_sql(statement, (json.dumps(rows[start : start + UPSERT_ROWS]),))


Row = Mapping[Any, Any]
Change = tuple[str, Row | None, Row | None]
"""(kind, the record's row before, its row after); a row after (or before) carries ``id``."""


def record_changes(connection: Connection, changes: Iterable[Change]) -> None:
    """Add the difference each (kind, row before, row after) makes to the counts, in the
    caller's transaction (before the rows after are written: the database still holds the rows
    before)."""
    deltas: Deltas | None = None
    incidents: dict[str, tuple[Row | None, Row | None]] = {}
    follow_ups: dict[str, tuple[Row | None, Row | None]] = {}
    for kind, before, after in changes:
        if kind == "follow_up":
            follow_ups[_id(before, after)] = (before, after)
            continue
        if kind not in ("incident", "tab"):
            continue
        if deltas is None:
            deltas = Deltas(read_school_year_start(connection))
        deltas.add(kind, before, -1)
        deltas.add(kind, after, 1)
        if kind == "incident":
            incidents[_id(before, after)] = (before, after)
    moved = sorted(
        record_id
        for record_id, (before, after) in incidents.items()
        if before is not None and _follow_up_place(before) != _follow_up_place(after)
    )
    if follow_ups or moved:
        if deltas is None:
            deltas = Deltas(read_school_year_start(connection))
        _follow_up_changes(connection, deltas, incidents, follow_ups, moved)
    if deltas is not None:
        deltas.write(connection)


def _id(before: Row | None, after: Row | None) -> str:
    row = after if after is not None else before
    assert row is not None
    return str(row["id"])


def _follow_up_changes(
    connection: Connection,
    deltas: Deltas,
    incidents: Mapping[str, tuple[Row | None, Row | None]],
    follow_ups: Mapping[str, tuple[Row | None, Row | None]],
    moved: list[str],
) -> None:
    """Count each written follow-up under its incident as it was and as it is, and move the
    stored follow-ups of each incident in ``moved`` (it started or stopped counting, or changed
    month or school) from its old place to its new one."""
    parents: dict[str, str] = {}
    for record_id, (before, after) in follow_ups.items():
        parent = next(
            (row["incident_id"] for row in (after, before) if row and row["incident_id"]), None
        )
        if parent is not None:
            parents[record_id] = str(parent)
    stored = _stored_incidents(
        connection, sorted({parent for parent in parents.values() if parent not in incidents})
    )

    def states(parent: str | None) -> tuple[Row | None, Row | None]:
        if parent is None:
            return None, None
        found = incidents.get(parent)
        if found is not None:
            return found
        row = stored.get(parent)
        return row, row

    for record_id, (before, after) in follow_ups.items():
        incident_before, incident_after = states(parents.get(record_id))
        deltas.add_follow_up(before, incident_before, -1)
        deltas.add_follow_up(after, incident_after, 1)
    if not moved:
        return
    table = tables.follow_ups
    rows = connection.execute(
        sa.select(table.c.id, *(table.c[name] for name in FOLLOW_UP_COLUMNS)).where(
            among(connection, table.c.incident_id, moved),
            table.c.tombstone.is_(False),
            table.c.voided_at.is_(None),
        )
    )
    for row in rows.mappings():
        if row["id"] in follow_ups:
            continue
        incident_before, incident_after = incidents[row["incident_id"]]
        deltas.add_follow_up(row, incident_before, -1)
        deltas.add_follow_up(row, incident_after, 1)


def _stored_incidents(connection: Connection, ids: list[str]) -> dict[str, Row]:
    if not ids:
        return {}
    table = tables.incidents
    rows = connection.execute(
        sa.select(table.c.id, *(table.c[name] for name in INCIDENT_COLUMNS)).where(
            among(connection, table.c.id, ids)
        )
    )
    return {str(row["id"]): row for row in rows.mappings()}


INCIDENT_COLUMNS = (
    "school_id", "student_id", "local_date", "local_hour", "level", "behavior_code", "location",
    "is_removal", "removal_minutes", "is_iss", "iss_days", "progression_bypassed", "tombstone",
    "voided_at",
)  # fmt: skip
TAB_COLUMNS = (
    "school_id", "student_id", "local_date", "kind", "started_by", "returned_ready", "minutes",
    "tombstone", "voided_at",
)  # fmt: skip
FOLLOW_UP_COLUMNS = (
    "incident_id", "kind", "created_at", "done_at", "due_at", "tombstone", "voided_at",
)  # fmt: skip
ROLLUP_COLUMNS = {"incident": INCIDENT_COLUMNS, "tab": TAB_COLUMNS, "follow_up": FOLLOW_UP_COLUMNS}
"""The columns of a record row the counts depend on."""


def rebuild(
    connection: Connection, chunk: int = 20_000, *, targets: Collection[str] = TARGETS
) -> None:
    """Compute the tables of ``targets`` (all by default) again from every record, in the
    caller's transaction."""
    for target in TARGETS:
        if target in targets:
            connection.execute(sa.delete(TABLES[target][0]))
    deltas = Deltas(read_school_year_start(connection))
    if set(targets) & {"incidents", "students", "tabs"}:
        for kind, table in (("incident", tables.incidents), ("tab", tables.tab_events)):
            columns = [table.c[name] for name in ROLLUP_COLUMNS[kind]]
            result = connection.execute(
                sa.select(*columns)
                .where(table.c.tombstone.is_(False))
                .execution_options(yield_per=chunk)
            )
            for row in result.mappings():
                deltas.add(kind, row)
        for target in TARGETS:
            if target not in targets:
                deltas.sums[target].clear()
        deltas.write(connection)
    if "follow_ups" in targets:
        _rebuild_follow_ups(connection, deltas, chunk)


def _rebuild_follow_ups(connection: Connection, deltas: Deltas, chunk: int) -> None:
    """Count every follow-up under its incident, written every ``chunk * 10`` rows (the
    counts add up, so partial writes sum to the whole)."""
    follow_up, incident = tables.follow_ups, tables.incidents
    query = (
        sa.select(
            *(follow_up.c[name] for name in FOLLOW_UP_COLUMNS),
            *(incident.c[name].label(f"incident_{name}") for name in INCIDENT_COLUMNS),
        )
        .select_from(follow_up.join(incident, incident.c.id == follow_up.c.incident_id))
        .where(
            follow_up.c.tombstone.is_(False),
            follow_up.c.voided_at.is_(None),
            incident.c.tombstone.is_(False),
            incident.c.voided_at.is_(None),
        )
        .execution_options(yield_per=chunk)
    )
    width = len(FOLLOW_UP_COLUMNS)
    for count, row in enumerate(connection.execute(query), start=1):
        deltas.add_follow_up(
            dict(zip(FOLLOW_UP_COLUMNS, row[:width], strict=True)),
            dict(zip(INCIDENT_COLUMNS, row[width:], strict=True)),
        )
        if count % (chunk * 10) == 0:
            deltas.write(connection)
    deltas.write(connection)
