"""Counts the summaries read instead of scanning every record: kept exact on write.

Three tables hold sums of the counted records (live, not voided; incidents at Level 2 or above;
on a school-local day; DESIGN section 6b):

- ``rollup_incidents``: per school, month and one grouping (the day, the behavior, the location,
  the hour), the incidents and their removals, ISS, bypasses, and the voided ones beside them;
- ``rollup_students``: per period (a month or a school year), scope (a school, or ``*`` for the
  district), student and behavior (``""`` for all behaviors, with the student's Take a Breaks),
  the student's incidents, removals, ISS and Take a Breaks of each kind;
- ``rollup_tabs``: per scope, month, kind, who started it, whether the student returned ready
  and length in tenths of a minute, the Take a Breaks and their length in seconds.

Every write of an incident or a Take a Break goes through :class:`district.records.RecordSet`,
whose ``flush`` hands this module each written row as it was before the transaction and as it
is after: the difference of their contributions is added in the same transaction, so a void, a
correction, a move to another student or a retraction takes its old contribution away exactly.
Sums that are fractions elsewhere are whole numbers here (micro-days of ISS, seconds of a Take a
Break), so adding and taking away never drifts. ``rebuild`` computes the tables from the records
(after a bulk load, or when the district's school-year start moves, which changes the periods).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Literal

import sqlalchemy as sa
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
STUDENT_SUMS = tables.ROLLUP_STUDENT_SUMS
TAB_SUMS = ("events", "seconds")
TAB_OUT_KINDS = ("out", "out_and_back")
TAB_KINDS = ("spot", "out", "out_and_back")
UNKNOWN_LENGTH = -1
"""The length bucket of a Take a Break that has not ended."""

Target = Literal["incidents", "students", "tabs"]
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
    month = bucket_of(day, year_start)
    yield (
        "tabs",
        (
            (school, month, kind, started_by, ready, tenths),
            (ALL_SCHOOLS, month, kind, started_by, ready, tenths),
        ),
        (1, seconds),
    )
    month_period, year = _periods(day, year_start)
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


class Deltas:
    """Sums to add to the tables, gathered over many rows."""

    def __init__(self, year_start: date) -> None:
        self.year_start = year_start
        self.sums: dict[Target, dict[tuple[Any, ...], list[int]]] = {
            "incidents": {},
            "students": {},
            "tabs": {},
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
        ("scope", "month", "kind", "started_by", "returned_ready", "tenths"),
        TAB_SUMS,
    ),
}
"""Each table, the names of a key's parts in order, and its sums."""


def _upsert(
    connection: Connection,
    table: sa.Table,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    deltas: Mapping[tuple[Any, ...], list[int]],
) -> None:
    """Add ``deltas`` to ``table``'s rows, creating the missing ones: one statement run for
    every row straight through the driver (the rows are plain tuples; building each one's
    parameters through SQLAlchemy cost more than the database's work). In no particular order:
    every write transaction takes the change counter's row lock first, so two never interleave
    here."""
    if connection.dialect.name == "sqlite" and "month" in keys:
        at = keys.index("month")  # SQLite keeps a date as its ISO text
        rows = [
            (*key[:at], key[at].isoformat(), *key[at + 1 :], *values)
            for key, values in deltas.items()
            if any(values)
        ]
    else:
        rows = [(*key, *values) for key, values in deltas.items() if any(values)]
    if not rows:
        return
    marker = "?" if connection.dialect.name == "sqlite" else "%s"
    names = ", ".join((*keys, *sums))
    statement = (
        f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([marker] * len(keys + sums))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in sums)
    )
    connection.exec_driver_sql(statement, rows)


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
TAB_COLUMNS = (
    "school_id", "student_id", "local_date", "kind", "started_by", "returned_ready", "minutes",
    "tombstone", "voided_at",
)  # fmt: skip
ROLLUP_COLUMNS = {"incident": INCIDENT_COLUMNS, "tab": TAB_COLUMNS}
"""The columns of a record row the counts depend on."""


def rebuild(connection: Connection, chunk: int = 20_000) -> None:
    """Compute both tables again from every record, in the caller's transaction."""
    for table, _, _ in TABLES.values():
        connection.execute(sa.delete(table))
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
