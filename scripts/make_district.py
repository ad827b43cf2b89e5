"""Make a synthetic district on a server database: schools, students with demographics, staff,
one classroom device per school, and a school year of Level 2 incidents, Take a Break events and
follow-ups, written straight into the server's typed tables (as the server would store them) for
speed. For the summaries' benchmark (1,000,000 incidents) and for demos (a few thousand).

The skew is meant to look like a real district: a few students account for most incidents
(heavy-tailed weights, most students none), incidents fall in class-period hours with a peak
around lunch, follow the school year's seasons (a slow start, an autumn and spring rise, quiet
weeks before breaks), avoid weekends and the calendar's non-school dates, and are more frequent
for some groups (students with an IEP, for one) so the equity report has something to show.

    python scripts/make_district.py --db sqlite:///district.db --incidents 1000000
    python scripts/make_district.py --db URL --incidents 3000 --schools 2 --students 300

Random but reproducible (``--seed``). Refuses a database that already holds records.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from district import tables
from district.db import (
    WriteTx,
    create_engine,
    is_sqlite,
    migrate,
    store_school_year_start,
    write_transaction,
)
from district.records import Record
from district.summaries import rollup
from district.summaries.config import store_summary_config
from schema import counting
from schema.clock import Timestamp
from schema.fields import SAFEGUARDS, SHAPES_BY_KIND
from schema.grid import default_grid
from schema.models import Action, required_follow_ups
from schema.summaries import SchoolCalendar, SummaryConfig

BATCH = 5000
TIME_ZONE = "America/Chicago"
MONTH_WEIGHTS = {8: 0.6, 9: 1.0, 10: 1.15, 11: 1.0, 12: 0.8, 1: 0.95, 2: 1.1, 3: 1.1, 4: 1.05,
                 5: 1.2, 6: 0.5, 7: 0.0}  # fmt: skip
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.0, 1.05, 0.85)
HOUR_WEIGHTS = {8: 0.6, 9: 1.0, 10: 1.1, 11: 1.25, 12: 1.35, 13: 1.2, 14: 1.05, 15: 0.45}
LOCATIONS = (("Classroom", 60), ("Hallway", 12), ("Cafeteria", 8), ("Playground", 5), ("Gym", 4),
             ("Bathroom/Restroom", 3), ("Bus", 3), ("Common area", 2), ("Library", 1),
             ("Bus loading zone", 1), ("Other", 1))  # fmt: skip
MOTIVATIONS = (("Obtain peer attention", 30), ("Avoid task or activity", 30),
               ("Obtain adult attention", 15), ("Avoid peer(s)", 8), ("Obtain items/activities", 7),
               ("Unknown", 10))  # fmt: skip
RACES = (("white", 45.0), ("hispanic", 28.0), ("blackOrAfricanAmerican", 15.0), ("asian", 5.0),
         ("two", 4.5), ("americanIndianOrAlaskaNative", 1.0),
         ("nativeHawaiianOrOtherPacificIslander", 0.4), ("none", 1.1))  # fmt: skip
RACE_RISK = {"blackOrAfricanAmerican": 1.8, "americanIndianOrAlaskaNative": 1.5, "two": 1.3,
             "hispanic": 1.1, "asian": 0.5}  # fmt: skip
SCHOOL_BANDS = (("elementary", ("KG", "01", "02", "03", "04", "05")),
                ("middle", ("06", "07", "08")), ("high", ("09", "10", "11", "12")))  # fmt: skip
COMMON_BEHAVIORS = (
    "DIS-CLASS",
    "LANG-STUDENT",
    "DIS-LEAVE",
    "PHYS-CONTACT",
    "DIS-HALL",
    "DEVICE",
    "TECH",
    "PHYS-AGGR",
    "LANG-STAFF",
    "DIS-TAUNT",
    "PROP",
    "DRESS",
)
"""The most frequent behaviors first (minor disruption and defiance), the rest after them."""
GIVEN = ("Ava", "Liam", "Mia", "Noah", "Zoe", "Eli", "Ivy", "Leo", "Ana", "Sam", "Kai", "Ruby")
FAMILY = ("Garcia", "Smith", "Nguyen", "Johnson", "Lee", "Brown", "Lopez", "Davis", "Khan")


@dataclass(frozen=True)
class Params:
    incidents: int = 1_000_000
    schools: int = 60
    students_per_school: int = 700
    tab_ratio: float = 0.3
    year_start: int = 2025
    until: date | None = None
    seed: int = 7


@dataclass
class Student:
    id: str
    school_id: str
    grade: str
    iep: bool


@dataclass
class World:
    schools: list[str] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    staff: dict[str, list[str]] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)
    day_weights: list[float] = field(default_factory=list)
    non_school: list[date] = field(default_factory=list)


class Picker:
    """Weighted choice by bisection on cumulative weights (fast for millions of draws)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float], rng: random.Random) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def __call__(self) -> Any:
        point = self.rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_right(self.cumulative, point)]


def _holidays(first: date) -> list[date]:
    """Thanksgiving week's Thursday and Friday, two weeks of winter break, a spring week."""
    year = first.year
    november = date(year, 11, 1)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    closed = [thanksgiving, thanksgiving + timedelta(days=1)]
    closed += [date(year, 12, 21) + timedelta(days=offset) for offset in range(14)]
    closed += [date(year + 1, 3, 16) + timedelta(days=offset) for offset in range(5)]
    closed.append(date(year, 9, 1) + timedelta(days=(0 - date(year, 9, 1).weekday()) % 7))
    closed += [date(year, 7, 1) + timedelta(days=offset) for offset in range(54)]
    closed += [date(year + 1, 6, 6) + timedelta(days=offset) for offset in range(26)]
    return sorted(day for day in closed if day.weekday() < 5)


def school_days(params: Params) -> tuple[list[date], list[float], list[date]]:
    first = date(params.year_start, 8, 24)
    last = date(params.year_start + 1, 6, 5)
    if params.until is not None:
        last = min(last, params.until)
    closed = _holidays(first)
    days: list[date] = []
    weights: list[float] = []
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in closed:
            days.append(day)
            weights.append(MONTH_WEIGHTS[day.month] * WEEKDAY_WEIGHTS[day.weekday()])
        day += timedelta(days=1)
    if not days:
        raise SystemExit("make_district: no school days in the chosen period")
    return days, weights, closed


def _demographics(rng: random.Random, race_pick: Picker) -> tuple[str, list[str], bool, float]:
    race = race_pick()
    hispanic = race == "hispanic"
    if hispanic:
        flags = [rng.choice(("white", "blackOrAfricanAmerican", "white"))]
    elif race == "two":
        flags = ["white", rng.choice(("blackOrAfricanAmerican", "asian"))]
    elif race == "none":
        flags = []
    else:
        flags = [race]
    sex = "female" if rng.random() < 0.49 else "male" if rng.random() < 0.99 else ""
    return sex, flags, hispanic, RACE_RISK.get(race, 1.0)


def write_roster(engine: Engine, params: Params, rng: random.Random, world: World) -> None:
    race_pick = Picker([race for race, _ in RACES], [weight for _, weight in RACES], rng)
    now = datetime.now(UTC)
    with write_transaction(engine) as tx:
        tx.roster_changed = True
        connection = tx.connection
        connection.execute(
            sa.insert(tables.orgs),
            [{"sourced_id": "district", "name": "Synthetic district", "type": "district",
              "cursor": tx.next_cursor()}],
        )  # fmt: skip
        orgs, students, demographics, staff, devices = [], [], [], [], []
        for number in range(1, params.schools + 1):
            school = f"school-{number:03d}"
            band, grades = SCHOOL_BANDS[(number - 1) % len(SCHOOL_BANDS)]
            world.schools.append(school)
            orgs.append({"sourced_id": school, "name": f"{band.title()} School {number}",
                         "type": "school", "cursor": tx.next_cursor()})  # fmt: skip
            world.staff[school] = [f"{school}-t{index:02d}" for index in range(1, 31)]
            staff += [
                {"sourced_id": staff_id, "given_name": rng.choice(GIVEN),
                 "family_name": rng.choice(FAMILY), "role": "teacher", "school_id": school,
                 "deleted": False, "cursor": tx.next_cursor()}
                for staff_id in world.staff[school]
            ]  # fmt: skip
            device = f"gen-device-{number:03d}"
            world.devices[school] = device
            devices.append(
                {"id": device, "name": f"Generated {school}", "role": "classroom",
                 "school_id": school, "district_scope": False, "staff_id": None,
                 "section_ids": [], "token_hash": secrets.token_hex(32), "created_at": now,
                 "revoked_at": None, "last_seen_at": None}
            )  # fmt: skip
            for index in range(params.students_per_school):
                student_id = f"{school}-s{index:05d}"
                grade = grades[index % len(grades)]
                iep = rng.random() < 0.15
                sex, flags, hispanic, risk = _demographics(rng, race_pick)
                involved = rng.random() < 0.35 * min(1.0, risk)
                weight = rng.lognormvariate(0.0, 1.5) * risk * (1.6 if iep else 1.0)
                world.students.append(Student(student_id, school, grade, iep))
                world.weights.append(weight if involved else 0.0)
                students.append(
                    {"sourced_id": student_id, "given_name": rng.choice(GIVEN),
                     "family_name": rng.choice(FAMILY), "grade": grade, "iep": iep,
                     "school_id": school, "deleted": False, "cursor": tx.next_cursor()}
                )  # fmt: skip
                demographics.append(
                    {"student_id": student_id, "birth_date": None, "sex": sex or None,
                     "race": flags, "hispanic_or_latino": hispanic}
                )  # fmt: skip
        for table, rows in (
            (tables.orgs, orgs),
            (tables.staff, staff),
            (tables.devices, devices),
            (tables.students, students),
            (tables.demographics, demographics),
        ):
            for start in range(0, len(rows), BATCH):
                connection.execute(sa.insert(table), rows[start : start + BATCH])  # fmt: skip
        store_school_year_start(tx, date(params.year_start, 7, 1))
        store_summary_config(
            tx,
            SummaryConfig(
                calendar=SchoolCalendar(time_zone=TIME_ZONE, non_school_dates=world.non_school)
            ),
        )


def _ms(moment: datetime) -> datetime:
    """A time at the wire's precision (milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass
class Made:
    """One generated record: its content with times as datetimes (UTC), before storage."""

    kind: str
    id: str
    owner: str
    school_id: str
    student: Student
    fields: dict[str, Any]
    hlc: str
    tombstone: bool = False
    local: datetime | None = None
    due_at: datetime | None = None

    def wire_fields(self) -> dict[str, Any]:
        """The fields as a device pushes them (times as UTC ISO text)."""
        return {
            name: _iso(value) if isinstance(value, datetime) else value
            for name, value in self.fields.items()
        }

    def record(self, cursor: int) -> Record:
        """The server's view of this record (for checking :meth:`columns` against
        ``district.records.stored_columns``)."""
        return Record(
            id=self.id,
            kind=self.kind,  # type: ignore[arg-type]
            owner_device_id=self.owner,
            school_id=self.school_id,
            student_id=None if self.tombstone else self.student.id,
            parent_id=self.fields.get("incident_id") if self.kind == "follow_up" else None,
            level=2 if self.kind == "incident" and not self.tombstone else None,
            fields={} if self.tombstone else self.wire_fields(),
            field_hlc={} if self.tombstone else dict.fromkeys(self.fields, self.hlc),
            tombstone=self.tombstone,
            tombstone_hlc=self.hlc if self.tombstone else None,
            cursor=cursor,
            student_grade=None if self.tombstone else self.student.grade,
        )

    def columns(self, cursor: int) -> dict[str, Any]:
        """The typed row the server stores for this record (what ``stored_columns`` gives,
        built without re-parsing text, plus ``due_at``)."""
        live = not self.tombstone
        fields = self.fields
        row: dict[str, Any] = {
            "id": self.id,
            "owner_device_id": self.owner,
            "school_id": self.school_id,
            "student_id": self.student.id if live else None,
            "field_hlc": dict.fromkeys(fields, self.hlc) if live else None,
            "tombstone": self.tombstone,
            "tombstone_hlc": None if live else self.hlc,
            "cursor": cursor,
        }
        for name, shape in SHAPES_BY_KIND[self.kind].items():
            if shape == "safeguards":
                given = fields.get(name) if live else None
                for safeguard in SAFEGUARDS:
                    row[f"{name}_{safeguard}"] = given.get(safeguard) if given else None
            elif name != "student_id" or self.kind == "follow_up":
                value = fields.get(name) if live else None
                row[name] = ",".join(value) if shape == "actions" and value is not None else value
        if self.kind == "follow_up":
            row["student_id"] = self.student.id if live else None
            row["due_at"] = self.due_at if live else None
            return row
        row["student_grade"] = self.student.grade if live else None
        local = self.local if live else None
        row["local_date"] = local.date() if local else None
        row["local_hour"] = local.hour if local else None
        row["local_weekday"] = local.weekday() if local else None
        if self.kind == "incident":
            wire = {"actions": fields.get("actions"),
                    "iss_recorded_as_removal": fields.get("iss_recorded_as_removal")}  # fmt: skip
            row["is_iss"] = counting.is_iss("incident", wire) if live else None
            row["is_removal"] = counting.is_removal("incident", wire) if live else None
        else:
            started, ended = fields.get("started_at"), fields.get("ended_at")
            row["minutes"] = (ended - started).total_seconds() / 60 if live and ended else None
        return row


class Maker:
    """Draws one incident at a time, with its TABs and follow-ups."""

    def __init__(self, world: World, params: Params, rng: random.Random) -> None:
        self.world, self.params, self.rng = world, params, rng
        self.zone = ZoneInfo(TIME_ZONE)
        self.student = Picker(world.students, world.weights, rng)
        self.day = Picker(world.days, world.day_weights, rng)
        self.hour = Picker(list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values()), rng)
        self.location = Picker([p for p, _ in LOCATIONS], [w for _, w in LOCATIONS], rng)
        self.motivation = Picker([m for m, _ in MOTIVATIONS], [w for _, w in MOTIVATIONS], rng)
        grid = default_grid()
        codes = sorted({entry.code for entry in grid if 2 in entry.levels})
        rng.shuffle(codes)
        common = [code for code in COMMON_BEHAVIORS if code in codes]
        codes = common + [code for code in codes if code not in common]
        self.behavior = Picker(codes, [1.0 / (rank + 1) ** 1.1 for rank in range(len(codes))], rng)
        self.count = 0

    def _made(self, kind: str, student: Student, fields: dict[str, Any], when: datetime,
              **extra: Any) -> Made:  # fmt: skip
        self.count += 1
        device = self.world.devices[student.school_id]
        hlc = Timestamp(int(when.timestamp() * 1000), 0, device).encode()
        record_id = f"gen{self.params.seed:02d}{kind[0]}{self.count:010d}"
        return Made(kind, record_id, device, student.school_id, student, fields, hlc, **extra)

    def incident(self) -> Iterator[Made]:
        rng = self.rng
        student: Student = self.student()
        day: date = self.day()
        local = datetime(day.year, day.month, day.day, self.hour(), rng.randrange(60),
                         rng.randrange(60), tzinfo=self.zone)  # fmt: skip
        moment = local.astimezone(UTC)
        if rng.random() < 0.005:
            yield self._made("incident", student, {}, moment, tombstone=True)
            return
        staff = rng.choice(self.world.staff[student.school_id])
        device = self.world.devices[student.school_id]
        roll = rng.random()
        actions = ["redirect", "support_staff"]
        iss_days = None
        removal_minutes: int | None = None
        if roll < 0.03:
            actions = ["support_staff", "iss"]
            iss_days = rng.choice((0.5, 1.0))
        elif roll < 0.15:
            actions = ["support_staff", "removal"]
            removal_minutes = rng.choice((15, 20, 30, 45, 60))
        elif roll < 0.25:
            actions = ["reteach", "take_a_break", "support_staff"]
        logged = moment + timedelta(minutes=2)
        fields: dict[str, Any] = {
            "student_id": student.id,
            "staff_id": staff,
            "device_id": device,
            "behavior_code": self.behavior(),
            "level": 2,
            "actions": actions,
            "occurred_at": moment,
            "tz": TIME_ZONE,
            "location": self.location(),
            "motivation": self.motivation(),
            "others_involved": rng.choice(("None", "Peers", "Peers", "Staff")),
            "note": "",
            "iss_days": iss_days,
            "iss_recorded_as_removal": "iss" in actions and student.iep and rng.random() < 0.3,
            "advised_level": 2,
            "progression_bypassed": rng.random() < 0.04,
            "removal_minutes": removal_minutes,
            "created_at": logged,
            "updated_at": logged,
        }
        if fields["progression_bypassed"]:
            fields["bypass_reason"] = "the team agreed to answer at Level 2"
        if "iss" in actions and student.iep and not fields["iss_recorded_as_removal"]:
            fields["iss_safeguards"] = dict.fromkeys(SAFEGUARDS, True)
        if rng.random() < 0.015:
            fields["voided_at"] = moment + timedelta(hours=3)
            fields["void_reason"] = "logged for the wrong student"
        incident = self._made("incident", student, fields, moment, local=local)
        yield incident
        if fields.get("voided_at") is None:
            yield from self._follow_ups(incident, actions, moment, day)
        if rng.random() < self.params.tab_ratio:
            yield self._tab(student, moment, incident.id if "take_a_break" in actions else None)

    def _follow_ups(self, incident: Made, actions: list[str], moment: datetime,
                    day: date) -> Iterator[Made]:  # fmt: skip
        rng = self.rng
        position = bisect.bisect_right(self.world.days, day)
        next_day = self.world.days[position] if position < len(self.world.days) else day
        due = datetime(next_day.year, next_day.month, next_day.day, 23, 59, tzinfo=self.zone)
        created = moment + timedelta(minutes=3)
        for kind in required_follow_ups([Action(action) for action in actions]):
            fields: dict[str, Any] = {"incident_id": incident.id, "kind": str(kind),
                                      "created_at": created, "note": ""}  # fmt: skip
            if rng.random() < 0.85:
                fields["done_at"] = _ms(created + timedelta(hours=rng.expovariate(1 / 30)))
                fields["done_by"] = incident.fields["staff_id"]
            yield self._made("follow_up", incident.student, fields, created,
                             due_at=due.astimezone(UTC))  # fmt: skip

    def _tab(self, student: Student, moment: datetime, incident_id: str | None) -> Made:
        rng = self.rng
        started = moment + timedelta(minutes=rng.randrange(-90, 90))
        kind = rng.choices(("spot", "out", "out_and_back"), (50, 35, 15))[0]
        fields: dict[str, Any] = {
            "student_id": student.id,
            "staff_id": rng.choice(self.world.staff[student.school_id]),
            "device_id": self.world.devices[student.school_id],
            "kind": kind,
            "started_by": "student" if rng.random() < 0.4 else "teacher",
            "started_at": started,
            "ended_at": _ms(started + timedelta(minutes=rng.uniform(3, 25))),
            "returned_ready": rng.choices((True, False, None), (85, 10, 5))[0],
            "reflection": "Ready to learn" if kind == "out_and_back" else None,
            "incident_id": incident_id,
            "note": "",
            "tz": TIME_ZONE,
        }
        return self._made("tab", student, fields, started, local=started.astimezone(self.zone))


def _copy_rows(tx: WriteTx, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY for a batch (one round trip), inside the write transaction."""
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    raw: Any = tx.connection.connection.driver_connection
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c]
                    for c in columns
                ]
            )


def _sqlite_value(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """How SQLAlchemy stores a value of ``column`` on SQLite, without its per-row overhead."""
    kind = column.type
    if isinstance(kind, sa.JSON):
        return lambda value: None if value is None else json.dumps(value)
    if isinstance(kind, sa.DateTime):
        return lambda value: (
            None
            if value is None
            else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        )
    if isinstance(kind, sa.Date):
        return lambda value: None if value is None else value.isoformat()
    if isinstance(kind, sa.Boolean):
        return lambda value: None if value is None else int(value)
    return None


def _insert_rows(tx: WriteTx, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    if not is_sqlite(tx.connection):
        _copy_rows(tx, table, rows)
        return
    converters = [(name, _sqlite_value(table.c[name])) for name in columns]
    convert = [(name, to) for name, to in converters if to is not None]
    values = []
    for row in rows:
        for name, to in convert:
            row[name] = to(row[name])
        values.append(tuple(row.values()))
    raw: Any = tx.connection.connection.driver_connection
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    raw.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)


def write_records(engine: Engine, world: World, params: Params, rng: random.Random,
                  progress: Callable[[int], None]) -> dict[str, int]:  # fmt: skip
    maker = Maker(world, params, rng)
    counts = {"incident": 0, "tab": 0, "follow_up": 0, "voided": 0, "withdrawn": 0}
    table_of = {"incident": tables.incidents, "tab": tables.tab_events,
                "follow_up": tables.follow_ups}  # fmt: skip
    with engine.begin() as connection:
        for table in table_of.values():
            for index in table.indexes:
                index.drop(connection)
    made = 0
    while made < params.incidents:
        batch: dict[str, list[dict[str, Any]]] = {"incident": [], "tab": [], "follow_up": []}
        target = min(params.incidents, made + BATCH)
        stamp = datetime.now(UTC)
        with write_transaction(engine) as tx:
            while made < target:
                for item in maker.incident():
                    row = item.columns(tx.next_cursor())
                    row["stored_at"] = row["changed_at"] = stamp
                    batch[item.kind].append(row)
                    counts[item.kind] += 1
                    if item.kind == "incident":
                        counts["withdrawn"] += item.tombstone
                        counts["voided"] += item.fields.get("voided_at") is not None
                made += 1
            for kind, rows in batch.items():
                if not rows:
                    continue
                _insert_rows(tx, table_of[kind], rows)
        progress(made)
    with engine.begin() as connection:
        for table in table_of.values():
            for index in table.indexes:
                index.create(connection)
    with write_transaction(engine) as tx:
        rollup.rebuild(tx.connection)  # the records went in around the push path's counting
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE" if is_sqlite(engine) else "VACUUM ANALYZE")
    return counts


def make_district(engine: Engine, params: Params,
                  progress: Callable[[int], None] = lambda _: None) -> dict[str, int]:  # fmt: skip
    """Write the district into a migrated, empty server database; returns counts by kind."""
    with engine.connect() as connection:
        existing = connection.execute(
            sa.select(sa.func.count()).select_from(tables.incidents)
        ).scalar_one()
    if existing:
        raise SystemExit("make_district: the database already holds incidents")
    rng = random.Random(params.seed)
    world = World()
    world.days, world.day_weights, world.non_school = school_days(params)
    write_roster(engine, params, rng, world)
    counts = write_records(engine, world, params, rng, progress)
    counts["students"] = len(world.students)
    counts["schools"] = len(world.schools)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", required=True, metavar="URL", help="sqlite:///FILE or postgresql://"
    )
    parser.add_argument("--incidents", type=int, default=Params.incidents)
    parser.add_argument("--schools", type=int, default=Params.schools)
    parser.add_argument("--students", type=int, default=Params.students_per_school,
                        help="students per school")  # fmt: skip
    parser.add_argument("--tab-ratio", type=float, default=Params.tab_ratio,
                        help="Take a Break events per incident")  # fmt: skip
    parser.add_argument("--year", type=int, default=None,
                        help="the year the school year starts (default: the current one, "
                        "generated up to today)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=Params.seed)
    args = parser.parse_args(argv)
    if args.incidents < 1 or args.schools < 1 or args.students < 1:
        parser.error("--incidents, --schools and --students must be positive")
    today = datetime.now(ZoneInfo(TIME_ZONE)).date()
    year = args.year if args.year is not None else today.year - (today.month < 8)
    until = today if args.year is None else None
    params = Params(args.incidents, args.schools, args.students, args.tab_ratio, year, until,
                    args.seed)  # fmt: skip
    engine = create_engine(args.db)
    migrate(engine)
    started = time.perf_counter()

    def progress(done: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{done:,}/{params.incidents:,} incidents", end="", file=sys.stderr)

    try:
        counts = make_district(engine, params, progress)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    if sys.stderr.isatty():
        print(file=sys.stderr)
    summary = ", ".join(f"{name} {value:,}" for name, value in counts.items())
    print(f"made {summary} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
