"""Synced records (incidents, TAB events, follow-ups, interventions, office referrals) as the
server holds them, and the merge rule both pushes and corrections use: per-field
last-writer-wins by hybrid logical clock (the encoding puts the node-id tie-break into string
order), the losing value kept for audit, and voids win (a voided record is never un-voided by a
merge).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import JsonValue
from sqlalchemy.engine import Connection

from district import tables
from district.db import WriteTx, among, as_utc
from district.summaries import rollup
from district.tables import safeguard_column
from schema import counting
from schema.contract import canonical_moment, is_zone_name, safeguards_columns, safeguards_value
from schema.fields import SAFEGUARDS, SHAPES_BY_KIND
from schema.wire import Change, SyncKind

VOID_FIELD = "voided_at"
BATCH = 500


@dataclass
class Record:
    id: str
    kind: SyncKind
    owner_device_id: str
    school_id: str | None
    student_id: str | None
    parent_id: str | None
    level: int | None
    fields: dict[str, Any]
    field_hlc: dict[str, str]
    tombstone: bool
    tombstone_hlc: str | None
    cursor: int
    student_grade: str | None = None
    """The student's grade when the record was logged (NULL until the roster says)."""

    @classmethod
    def from_row(cls, kind: str, row: Mapping[Any, Any]) -> Record:
        field_hlc = dict(row["field_hlc"] or {})
        fields = _wire_fields(kind, row, field_hlc)
        incident_id = fields.get("incident_id") if kind != "incident" else None
        return cls(
            id=row["id"],
            kind=cast(SyncKind, kind),
            owner_device_id=row["owner_device_id"],
            school_id=row["school_id"],
            student_id=row["student_id"],
            parent_id=incident_id if isinstance(incident_id, str) else None,
            level=row["level"] if kind == "incident" else None,
            fields=fields,
            field_hlc=field_hlc,
            tombstone=bool(row["tombstone"]),
            tombstone_hlc=row["tombstone_hlc"],
            cursor=int(row["cursor"]),
            student_grade=row.get("student_grade"),
        )

    def change(self, cursor: int | None = None) -> Change:
        """This record as a pull change: its content, or a removal for a tombstone. Built
        without re-validation: it is the server's own stored data, and pulls are hot."""
        at = self.cursor if cursor is None else cursor
        if self.tombstone:
            return Change.model_construct(cursor=at, kind=self.kind, id=self.id, op="remove")
        return Change.model_construct(
            cursor=at,
            kind=self.kind,
            id=self.id,
            op="upsert",
            fields=self.fields,
            field_hlc=self.field_hlc,
        )


def _wire_value(shape: str, value: Any) -> Any:
    if value is None:
        return [] if shape == "actions" else None
    if shape == "moment":
        return canonical_moment(as_utc(value))
    if shape == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if shape == "texts":
        return list(value)
    if shape == "actions":
        return [action for action in str(value).split(",") if action]
    if shape == "float":
        return float(value)
    if shape == "bool":
        return bool(value)
    if shape == "int":
        return int(value)
    return value


def _wire_fields(kind: str, row: Mapping[str, Any], present: Mapping[str, str]) -> dict[str, Any]:
    """A typed row's content as wire fields: the fields the record has set (those with a
    clock), nothing else."""
    fields: dict[str, Any] = {}
    for name, shape in SHAPES_BY_KIND[kind].items():
        if name not in present:
            continue
        if shape == "safeguards":
            fields[name] = safeguards_value(
                {safeguard: row[safeguard_column(name, safeguard)] for safeguard in SAFEGUARDS}
            )
        else:
            fields[name] = _wire_value(shape, row[name])
    return fields


def _column_value(shape: str, value: Any) -> Any:
    if value is None:
        return None
    if shape == "moment":
        return as_utc(datetime.fromisoformat(str(value)))
    if shape == "actions":
        return ",".join(str(action) for action in value)
    if shape == "date":
        return date.fromisoformat(str(value))
    return value


@cache
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name) if is_zone_name(name) else UTC


def _local(moment: Any, zone_name: Any) -> datetime | None:
    if moment is None:
        return None
    zone = _zone(str(zone_name)) if zone_name else UTC
    return as_utc(datetime.fromisoformat(str(moment))).astimezone(zone)


def stored_columns(record: Record) -> dict[str, Any]:
    """Every column of a record's typed row but ``id``: its content in typed columns, the
    values reports group on (local date, hour and weekday; ISS, removal; TAB minutes), and the
    sync metadata. A tombstone's content columns are all NULL."""
    kind = record.kind
    live = not record.tombstone
    fields = record.fields if live else {}
    columns: dict[str, Any] = {
        "owner_device_id": record.owner_device_id,
        "school_id": record.school_id,
        "student_id": record.student_id if live else None,
        "field_hlc": record.field_hlc if live else None,
        "tombstone": record.tombstone,
        "tombstone_hlc": record.tombstone_hlc,
        "cursor": record.cursor,
    }
    for name, shape in SHAPES_BY_KIND[kind].items():
        if shape == "safeguards":
            for safeguard, value in safeguards_columns(fields.get(name)).items():
                columns[safeguard_column(name, safeguard)] = value
        elif name != "student_id" or kind == "follow_up":
            columns[name] = _column_value(shape, fields.get(name))
    if kind == "follow_up":
        columns["student_id"] = record.student_id if live else None
        return columns
    columns["student_grade"] = record.student_grade if live else None
    if kind == "intervention":
        return columns
    moment = fields.get("started_at" if kind == "tab" else "occurred_at")
    local = _local(moment, fields.get("tz"))
    columns["local_date"] = local.date() if local else None
    columns["local_hour"] = local.hour if local else None
    columns["local_weekday"] = local.weekday() if local else None
    if kind == "incident":
        columns["is_iss"] = counting.is_iss(kind, fields) if live else None
        columns["is_removal"] = counting.is_removal(kind, fields) if live else None
    elif kind == "tab":
        started, ended = fields.get("started_at"), fields.get("ended_at")
        columns["minutes"] = (
            (
                as_utc(datetime.fromisoformat(ended)) - as_utc(datetime.fromisoformat(started))
            ).total_seconds()
            / 60
            if live and started and ended
            else None
        )
    return columns


def load(connection: Connection, record_id: str) -> Record | None:
    for kind, table in tables.RECORD_TABLES.items():
        row = connection.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
        if row is not None:
            return Record.from_row(kind, row)
    return None


def live_records_of(connection: Connection, student_id: str) -> list[Record]:
    """A student's live records of every kind, by id."""
    found: list[Record] = []
    for kind, table in tables.RECORD_TABLES.items():
        rows = connection.execute(
            sa.select(table).where(table.c.student_id == student_id, table.c.tombstone.is_(False))
        )
        found += [Record.from_row(kind, row) for row in rows.mappings()]
    return sorted(found, key=lambda record: record.id)


@dataclass
class Merge:
    """The outcome of merging incoming field values into a record."""

    won: dict[str, JsonValue] = field(default_factory=dict)
    won_hlc: dict[str, str] = field(default_factory=dict)
    displaced: list[tuple[str, Any, str]] = field(default_factory=list)
    """Values the winners replaced: (field, old value, old hlc)."""
    lost: list[tuple[str, JsonValue]] = field(default_factory=list)
    """Incoming values that lost: (field, value), at the incoming hlc."""


def merge(record: Record, incoming: Mapping[str, JsonValue], hlc: str) -> Merge:
    outcome = Merge()
    for name, value in incoming.items():
        current_hlc = record.field_hlc.get(name, "")
        current = record.fields.get(name)
        unvoids = name == VOID_FIELD and value is None and current is not None
        voids = name == VOID_FIELD and value is not None and current is None
        if (hlc > current_hlc and not unvoids) or voids:
            outcome.won[name] = value
            outcome.won_hlc[name] = max(hlc, current_hlc)
            if name in record.fields and current != value:
                outcome.displaced.append((name, current, current_hlc))
        elif current != value:
            outcome.lost.append((name, value))
    return outcome


def apply_merge(record: Record, outcome: Merge) -> None:
    record.fields.update(outcome.won)
    record.field_hlc.update(outcome.won_hlc)


def superseded_for(connection: Connection, record_id: str) -> list[dict[str, Any]]:
    values = tables.superseded_values
    rows = connection.execute(
        sa.select(
            values.c.field, values.c.value, values.c.hlc, values.c.written_by, values.c.reason
        )
        .where(values.c.record_id == record_id)
        .order_by(values.c.id)
    )
    return [dict(row) for row in rows.mappings()]


class RecordSet:
    """The records one write transaction touches: read in bulk, changed in memory, written back
    in bulk by ``flush`` (each changed record at one new cursor). Several ops on one record in
    one push see each other's effects without a round trip to the database."""

    def __init__(self, tx: WriteTx, now: datetime) -> None:
        self.tx = tx
        self.connection = tx.connection
        self.now = now
        self._records: dict[str, Record | None] = {}
        self._new: set[str] = set()
        self._dirty: set[str] = set()
        self._audit: list[dict[str, Any]] = []
        self._purged: set[str] = set()
        self._departures: list[dict[str, Any]] = []
        self._schools: dict[str, str | None] = {}
        self._grades: dict[str, str | None] = {}
        self._plan_facts: dict[str, tuple[str, bool] | None] = {}
        self._deleted_students: set[str] = set()
        self._counted_as: dict[str, dict[str, Any]] = {}
        """The columns the summaries' counts read, per record, as last stored."""

    def _remember(self, kind: str, row: Mapping[Any, Any]) -> None:
        columns = rollup.ROLLUP_COLUMNS.get(kind)
        if columns is not None:
            self._counted_as[str(row["id"])] = {name: row[name] for name in columns}

    def prefetch(self, record_ids: Iterable[str]) -> None:
        wanted = sorted({record_id for record_id in record_ids if record_id not in self._records})
        if not wanted:
            return
        found: dict[str, Record] = {}
        for kind, table in tables.RECORD_TABLES.items():
            rows = self.connection.execute(
                sa.select(table).where(among(self.connection, table.c.id, wanted))
            )
            for row in rows:
                found[row.id] = Record.from_row(kind, row._mapping)
                self._remember(kind, row._mapping)
            if len(found) == len(wanted):
                break
        for record_id in wanted:
            self._records[record_id] = found.get(record_id)

    def get(self, record_id: str) -> Record | None:
        if record_id not in self._records:
            self.prefetch([record_id])
        return self._records[record_id]

    def add(self, record: Record) -> None:
        self._records[record.id] = record
        self._new.add(record.id)

    def changed(self, record: Record) -> None:
        if record.id not in self._new:
            self._dirty.add(record.id)

    def children(self, parent_id: str) -> list[Record]:
        """Live records whose parent is ``parent_id`` (follow-ups, linked TABs), as they stand
        in this transaction."""
        stored: list[str] = []
        for table in (tables.tab_events, tables.follow_ups, tables.interventions):
            stored += self.connection.execute(
                sa.select(table.c.id).where(table.c.incident_id == parent_id)
            ).scalars()
        self.prefetch(stored)
        return [
            record
            for record in self._records.values()
            if record is not None and record.parent_id == parent_id and not record.tombstone
        ]

    def prefetch_schools(self, student_ids: Iterable[str]) -> None:
        """Read many students' school, grade, IEP flag and roster state in one query."""
        wanted = sorted({student for student in student_ids if student not in self._schools})
        if not wanted:
            return
        students = tables.students
        rows = self.connection.execute(
            sa.select(
                students.c.sourced_id,
                students.c.school_id,
                students.c.grade,
                students.c.iep,
                students.c.deleted,
            ).where(among(self.connection, students.c.sourced_id, wanted))
        )
        found: dict[str, str | None] = {}
        for row in rows:
            found[row.sourced_id] = row.school_id
            self._grades[row.sourced_id] = row.grade or None
            self._plan_facts[row.sourced_id] = (str(row.grade), bool(row.iep))
            if row.deleted:
                self._deleted_students.add(row.sourced_id)
        for student in wanted:
            self._schools[student] = found.get(student)
            if student not in found:
                self._deleted_students.add(student)
                self._plan_facts[student] = None

    def plan_facts(self, student_ids: Iterable[str]) -> dict[str, tuple[str, bool] | None]:
        """What the plan's rules read of each student (grade, IEP flag), None for a student the
        roster has never had, as ``PlanChecker.student`` gives it."""
        wanted = list(student_ids)
        self.prefetch_schools(wanted)
        return {student: self._plan_facts[student] for student in wanted}

    def student_known(self, student_id: str) -> bool:
        """Whether the roster has the student (and has not removed them)."""
        self.school_of(student_id)
        return student_id not in self._deleted_students

    def grade_of(self, student_id: str) -> str | None:
        """The student's grade on the roster now."""
        self.school_of(student_id)
        return self._grades.get(student_id)

    def school_of(self, student_id: str) -> str | None:
        if student_id not in self._schools:
            self.prefetch_schools([student_id])
        return self._schools[student_id]

    def audit(
        self,
        record_id: str,
        outcome: Merge,
        hlc: str,
        *,
        written_by: str | None,
        reason: str | None = None,
    ) -> None:
        """Keep every losing value: the ones a merge replaced and the incoming ones that lost."""
        displaced = [(name, value, old_hlc, None) for name, value, old_hlc in outcome.displaced]
        lost = [(name, value, hlc, written_by) for name, value in outcome.lost]
        self._audit.extend(
            {
                "record_id": record_id,
                "field": name,
                "value": value,
                "hlc": value_hlc,
                "written_by": writer,
                "reason": reason,
                "recorded_at": self.now,
            }
            for name, value, value_hlc, writer in displaced + lost
        )

    def tombstone(self, record: Record, hlc: str) -> None:
        """Delete a record's content and keep a content-free tombstone: id, kind, owner, school
        and the tombstone's clock. Its audit values go too (they are content)."""
        record.tombstone = True
        record.tombstone_hlc = max(hlc, record.tombstone_hlc or "")
        record.student_id = None
        record.parent_id = None
        record.level = None
        record.student_grade = None
        record.fields = {}
        record.field_hlc = {}
        self.changed(record)
        self._audit = [row for row in self._audit if row["record_id"] != record.id]
        self._purged.add(record.id)

    def _grade(self, record: Record) -> None:
        """Note the student's grade when a record first names its student."""
        if record.tombstone or record.student_id is None or record.student_grade is not None:
            return
        if record.kind != "follow_up":
            record.student_grade = self.grade_of(record.student_id)

    def depart(self, record_id: str, student_id: str, school_id: str | None) -> None:
        """A record left ``student_id``: devices that see that student re-decide whether they
        may still hold it."""
        self._departures.append(
            {
                "cursor": self.tx.next_cursor(),
                "student_id": student_id,
                "school_id": school_id,
                "section_id": None,
                "record_id": record_id,
            }
        )

    def flush(self) -> None:
        """Write every change, each changed record at a new cursor."""
        connection = self.connection
        values = tables.superseded_values
        purged = sorted(self._purged)
        for start in range(0, len(purged), BATCH):
            batch = purged[start : start + BATCH]
            connection.execute(sa.delete(values).where(values.c.record_id.in_(batch)))
        inserts: dict[str, list[dict[str, Any]]] = {}
        written: list[tuple[str, dict[str, Any]]] = []
        """Every written record's row (with ``id``), for the summaries' counts."""
        for record_id in sorted(self._new):
            record = self._records[record_id]
            assert record is not None
            record.cursor = self.tx.next_cursor()
            self._grade(record)
            row = {
                "id": record.id,
                **stored_columns(record),
                "stored_at": self.now,
                "changed_at": self.now,
            }
            inserts.setdefault(record.kind, []).append(row)
            written.append((record.kind, row))
        updates: dict[str, list[dict[str, Any]]] = {}
        for record_id in sorted(self._dirty):
            record = self._records[record_id]
            assert record is not None
            record.cursor = self.tx.next_cursor()
            self._grade(record)
            stored = {**stored_columns(record), "changed_at": self.now}
            updates.setdefault(record.kind, []).append(
                {"k_id": record.id, **{f"v_{k}": v for k, v in stored.items()}}
            )
            written.append((record.kind, {"id": record.id, **stored}))
        rollup.record_changes(
            connection,
            [(kind, self._counted_as.get(row["id"]), row) for kind, row in written],
        )
        for kind, row in written:
            self._remember(kind, row)
        for kind, rows in inserts.items():
            connection.execute(sa.insert(tables.RECORD_TABLES[kind]), rows)
        for kind, rows in updates.items():
            table = tables.RECORD_TABLES[kind]
            columns = [key.removeprefix("v_") for key in rows[0] if key != "k_id"]
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("k_id"))
                .values({column: sa.bindparam(f"v_{column}") for column in columns})
            )
            connection.execute(statement, rows)
        if self._audit:
            connection.execute(sa.insert(values), self._audit)
        if self._departures:
            connection.execute(sa.insert(tables.scope_events), self._departures)
            self.tx.roster_changed = True
        self._new.clear()
        self._dirty.clear()
        self._audit.clear()
        self._purged.clear()
        self._departures.clear()


def move_student(records: RecordSet, record: Record, new_student: JsonValue) -> None:
    """When a merge changes an incident's or TAB's student, its follow-ups move with it and
    devices that saw the old student learn that the records left them."""
    if new_student is None or new_student == record.student_id or record.student_id is None:
        return
    old_student, old_school = record.student_id, record.school_id
    record.student_id = str(new_student)
    record.student_grade = None
    record.school_id = records.school_of(record.student_id)
    records.depart(record.id, old_student, old_school)
    if record.kind != "incident":
        return
    for child in records.children(record.id):
        if child.kind == "follow_up":
            child.student_id, child.school_id = record.student_id, record.school_id
            records.changed(child)
            records.depart(child.id, old_student, old_school)
