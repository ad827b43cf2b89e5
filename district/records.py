"""Synced records (incidents, TAB events, follow-ups) as the server holds them, and the merge
rule both pushes and corrections use: per-field last-writer-wins by hybrid logical clock (the
encoding puts the node-id tie-break into string order), the losing value kept for audit, and
voids win (a voided record is never un-voided by a merge).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from pydantic import JsonValue
from sqlalchemy.engine import Connection

from district import tables
from district.db import WriteTx
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

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Record:
        return cls(
            id=row["id"],
            kind=cast(SyncKind, row["kind"]),
            owner_device_id=row["owner_device_id"],
            school_id=row["school_id"],
            student_id=row["student_id"],
            parent_id=row["parent_id"],
            level=row["level"],
            fields=dict(row["fields"] or {}),
            field_hlc=dict(row["field_hlc"] or {}),
            tombstone=bool(row["tombstone"]),
            tombstone_hlc=row["tombstone_hlc"],
            cursor=int(row["cursor"]),
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


def load(connection: Connection, record_id: str) -> Record | None:
    row = (
        connection.execute(sa.select(tables.records).where(tables.records.c.id == record_id))
        .mappings()
        .first()
    )
    return None if row is None else Record.from_row(row)


def load_many(connection: Connection, where: sa.ColumnElement[bool]) -> list[Record]:
    rows = connection.execute(sa.select(tables.records).where(where).order_by(tables.records.c.id))
    return [Record.from_row(row) for row in rows.mappings()]


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


def _stored_values(record: Record) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "owner_device_id": record.owner_device_id,
        "school_id": record.school_id,
        "student_id": record.student_id,
        "parent_id": record.parent_id,
        "level": record.level,
        "fields": None if record.tombstone else record.fields,
        "field_hlc": None if record.tombstone else record.field_hlc,
        "tombstone": record.tombstone,
        "tombstone_hlc": record.tombstone_hlc,
        "cursor": record.cursor,
    }


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
        self._deleted_students: set[str] = set()

    def prefetch(self, record_ids: Iterable[str]) -> None:
        wanted = sorted({record_id for record_id in record_ids if record_id not in self._records})
        table = tables.records
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            rows = self.connection.execute(sa.select(table).where(table.c.id.in_(batch)))
            found = {row.id: Record.from_row(row._mapping) for row in rows}
            for record_id in batch:
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
        stored = list(
            self.connection.execute(
                sa.select(tables.records.c.id).where(tables.records.c.parent_id == parent_id)
            ).scalars()
        )
        self.prefetch(stored)
        return [
            record
            for record in self._records.values()
            if record is not None and record.parent_id == parent_id and not record.tombstone
        ]

    def prefetch_schools(self, student_ids: Iterable[str]) -> None:
        wanted = sorted({student for student in student_ids if student not in self._schools})
        students = tables.students
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            rows = self.connection.execute(
                sa.select(students.c.sourced_id, students.c.school_id, students.c.deleted).where(
                    students.c.sourced_id.in_(batch)
                )
            )
            found: dict[str, str | None] = {}
            for row in rows:
                found[row.sourced_id] = row.school_id
                if row.deleted:
                    self._deleted_students.add(row.sourced_id)
            for student in batch:
                self._schools[student] = found.get(student)
                if student not in found:
                    self._deleted_students.add(student)

    def student_known(self, student_id: str) -> bool:
        """Whether the roster has the student (and has not removed them)."""
        self.school_of(student_id)
        return student_id not in self._deleted_students

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
        record.fields = {}
        record.field_hlc = {}
        self.changed(record)
        self._audit = [row for row in self._audit if row["record_id"] != record.id]
        self._purged.add(record.id)

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
        inserts: list[dict[str, Any]] = []
        for record_id in sorted(self._new):
            record = self._records[record_id]
            assert record is not None
            record.cursor = self.tx.next_cursor()
            inserts.append(
                {
                    "id": record.id,
                    **_stored_values(record),
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        updates: list[dict[str, Any]] = []
        for record_id in sorted(self._dirty):
            record = self._records[record_id]
            assert record is not None
            record.cursor = self.tx.next_cursor()
            stored = {**_stored_values(record), "updated_at": self.now}
            updates.append({"k_id": record.id, **{f"v_{k}": v for k, v in stored.items()}})
        table = tables.records
        if inserts:
            connection.execute(sa.insert(table), inserts)
        if updates:
            columns = [key.removeprefix("v_") for key in updates[0] if key != "k_id"]
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("k_id"))
                .values({column: sa.bindparam(f"v_{column}") for column in columns})
            )
            connection.execute(statement, updates)
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
    record.school_id = records.school_of(record.student_id)
    records.depart(record.id, old_student, old_school)
    if record.kind != "incident":
        return
    for child in records.children(record.id):
        if child.kind == "follow_up":
            child.student_id, child.school_id = record.student_id, record.school_id
            records.changed(child)
            records.depart(child.id, old_student, old_school)
