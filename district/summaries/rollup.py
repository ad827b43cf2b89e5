"""Counts the summaries read instead of scanning every record: kept exact on write.

Two tables hold sums of the counted records (live, not voided, Level 2 or above, on a school-local
day; DESIGN section 6b):

- ``rollup_incidents``: per school, month and one grouping (the day, the behavior, the location,
  the hour), the incidents and their removals, ISS, bypasses, and the voided ones beside them;
- ``rollup_students``: per period (a month or a school year), scope (a school, or ``*`` for the
  district), student and behavior (``""`` for all behaviors, with the student's Take a Breaks),
  the student's incidents, removals, ISS and TAB Outs.

Every write of an incident or a Take a Break goes through :class:`district.records.RecordSet`,
whose ``flush`` hands this module each written row as it was before the transaction and as it
is after: the difference of their contributions is added in the same transaction, so a void, a
correction, a move to another student or a retraction takes its old contribution away exactly.
Sums that are fractions elsewhere are whole numbers here (micro-days of ISS, milliseconds of TAB
Out), so adding and taking away never drifts. ``rebuild`` computes both tables from the records
(after a bulk load, or when the district's school-year start moves, which changes the periods).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from district import tables
from district.db import read_config
from schema.schoolyear import DEFAULT_START, school_year_for

ALL_SCHOOLS = "*"
"""The scope of ``rollup_students`` rows that count a student across the whole district."""
ALL_BEHAVIORS = ""
MICRO = 1_000_000
"""ISS days are kept in millionths of a day."""

INCIDENT_SUMS = tables.ROLLUP_SUMS
STUDENT_SUMS = ("incidents", "removals", "iss", "tabs", "tab_outs", "tab_out_ms")
TAB_OUT_KINDS = ("out", "out_and_back")

IncidentKey = tuple[str, date, str, str]
"""(school, first day of the month, grouping, key)."""
StudentKey = tuple[str, str, str, str]
"""(period, scope, student, behavior)."""


def month_period(day: date) -> str:
    return f"M{day:%Y-%m}"


def year_period(start: date) -> str:
    return f"Y{start.isoformat()}"


def school_year_start(connection: Connection) -> date:
    text = read_config(connection).get("school_year_start")
    try:
        return date.fromisoformat(str(text)) if text else DEFAULT_START
    except ValueError:
        return DEFAULT_START


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _counted(row: Mapping[Any, Any]) -> bool:
    return not row["tombstone"] and row["voided_at"] is None


def _incident_parts(
    row: Mapping[Any, Any], year_start: date
) -> Iterator[tuple[IncidentKey | StudentKey, bool, tuple[int, ...]]]:
    """(key, whether the key is a student key, sums) of one incident row."""
    day = _day(row["local_date"])
    school = row["school_id"]
    if row["tombstone"] or day is None or school is None or (row["level"] or 0) < 2:
        return
    month = day.replace(day=1)
    if row["voided_at"] is not None:
        yield (school, month, "day", day.isoformat()), False, (0, 0, 0, 0, 0, 0, 0, 1)
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
    for grouping, key in (
        ("day", day.isoformat()),
        ("behavior", str(row["behavior_code"])),
        ("location", row["location"] or ""),
        ("hour", "" if hour is None else f"{int(hour):02d}"),
    ):
        yield (school, month, grouping, key), False, sums
    student = row["student_id"]
    if student is None:
        return
    per_student = (1, int(removal), int(iss), 0, 0, 0)
    for key in _student_keys(day, school, student, year_start):
        yield key, True, per_student
        yield (*key[:3], str(row["behavior_code"])), True, per_student


def _student_keys(day: date, school: str, student: str, year_start: date) -> Iterator[StudentKey]:
    year = year_period(school_year_for(day, year_start).start)
    for period in (month_period(day), year):
        for scope in (school, ALL_SCHOOLS):
            yield period, scope, student, ALL_BEHAVIORS


def _tab_parts(
    row: Mapping[Any, Any], year_start: date
) -> Iterator[tuple[StudentKey, bool, tuple[int, ...]]]:
    day = _day(row["local_date"])
    school, student = row["school_id"], row["student_id"]
    if not _counted(row) or day is None or school is None or student is None:
        return
    out = row["kind"] in TAB_OUT_KINDS
    minutes = row["minutes"]
    sums = (0, 0, 0, 1, int(out), round(float(minutes or 0.0) * 60_000) if out else 0)
    for key in _student_keys(day, school, student, year_start):
        yield key, True, sums


class Deltas:
    """Sums to add to the two tables, gathered over many rows."""

    def __init__(self, year_start: date) -> None:
        self.year_start = year_start
        self.incidents: dict[IncidentKey, list[int]] = {}
        self.students: dict[StudentKey, list[int]] = {}

    def add(self, kind: str, row: Mapping[Any, Any] | None, sign: int = 1) -> None:
        if row is None:
            return
        if kind == "incident":
            parts: Iterable[tuple[Any, bool, tuple[int, ...]]] = _incident_parts(
                row, self.year_start
            )
        elif kind == "tab":
            parts = _tab_parts(row, self.year_start)
        else:
            return
        for key, is_student, sums in parts:
            target: dict[Any, list[int]] = self.students if is_student else self.incidents
            current = target.get(key)
            if current is None:
                target[key] = [sign * value for value in sums]
            else:
                for index, value in enumerate(sums):
                    current[index] += sign * value

    def write(self, connection: Connection) -> None:
        _upsert(
            connection,
            tables.rollup_incidents,
            ("school_id", "month", "grouping", "key"),
            INCIDENT_SUMS,
            self.incidents,
        )
        _upsert(
            connection,
            tables.rollup_students,
            ("period", "scope", "student_id", "behavior_code"),
            STUDENT_SUMS,
            self.students,
        )
        self.incidents.clear()
        self.students.clear()


def _upsert(
    connection: Connection,
    table: sa.Table,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    deltas: Mapping[tuple[Any, ...], list[int]],
) -> None:
    rows = [
        {**dict(zip(keys, key, strict=True)), **dict(zip(sums, values, strict=True))}
        for key, values in sorted(deltas.items())
        if any(values)
    ]
    if not rows:
        return
    insert = (sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert)(table)
    statement = insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + insert.excluded[name] for name in sums},
    )
    for start in range(0, len(rows), 2000):
        connection.execute(statement, rows[start : start + 2000])


def record_changes(
    connection: Connection,
    changes: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> None:
    """Add the difference each (kind, row before, row after) makes to the counts, in the
    caller's transaction."""
    deltas: Deltas | None = None
    for kind, before, after in changes:
        if kind not in ("incident", "tab"):
            continue
        if deltas is None:
            deltas = Deltas(school_year_start(connection))
        deltas.add(kind, before, -1)
        deltas.add(kind, after, 1)
    if deltas is not None:
        deltas.write(connection)


INCIDENT_COLUMNS = (
    "school_id", "student_id", "local_date", "local_hour", "level", "behavior_code", "location",
    "is_removal", "removal_minutes", "is_iss", "iss_days", "progression_bypassed", "tombstone",
    "voided_at",
)  # fmt: skip
TAB_COLUMNS = ("school_id", "student_id", "local_date", "kind", "minutes", "tombstone", "voided_at")
ROLLUP_COLUMNS = {"incident": INCIDENT_COLUMNS, "tab": TAB_COLUMNS}
"""The columns of a record row the counts depend on."""


def rebuild(connection: Connection, chunk: int = 20_000) -> None:
    """Compute both tables again from every record, in the caller's transaction."""
    connection.execute(sa.delete(tables.rollup_incidents))
    connection.execute(sa.delete(tables.rollup_students))
    deltas = Deltas(school_year_start(connection))
    for kind, table in (("incident", tables.incidents), ("tab", tables.tab_events)):
        columns = [table.c[name] for name in ROLLUP_COLUMNS[kind]]
        result = connection.execute(
            sa.select(*columns)
            .where(table.c.tombstone.is_(False))
            .execution_options(yield_per=chunk)
        )
        for row in result.mappings():
            deltas.add(kind, row)
    deltas.write(connection)
