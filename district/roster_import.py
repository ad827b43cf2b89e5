"""Importing a OneRoster CSV roster into the server's database, all or nothing.

``schema.roster.read_roster`` reads and checks the whole roster first (errors name file, line
and column); only then is it written, in one transaction. Rows are matched by sourcedId: new
ones are added, changed ones updated, and rows of the roster's orgs that the new roster no longer
has are marked deleted (a OneRoster bulk file is the whole truth for its orgs). Every changed row
gets a cursor so devices pull it; a student entering or leaving a section or school also writes
a scope event so devices fetch or drop the student's records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from district import tables
from district.db import WriteTx, is_sqlite, store_school_year_start, write_transaction
from schema.roster import RosterData, read_roster

Progress = Callable[[str, int], None]
BATCH_ROWS = 5000
DEMOGRAPHIC_COLUMNS = ("birth_date", "sex", "race", "hispanic_or_latino")


@dataclass
class TableCounts:
    added: int = 0
    updated: int = 0
    deleted: int = 0


@dataclass
class ImportSummary:
    version: str
    counts: dict[str, TableCounts] = field(default_factory=dict)
    school_year_start_changed: bool = False

    def describe(self) -> str:
        parts = [
            f"{name}: {c.added} added, {c.updated} updated, {c.deleted} removed"
            for name, c in self.counts.items()
        ]
        return f"OneRoster {self.version} roster imported; " + "; ".join(parts)


def import_roster(engine: Engine, path: Path, *, progress: Progress | None = None) -> ImportSummary:
    """Read ``path`` (folder or zip) and write it. Raises ``schema.roster.RosterError`` before
    anything is written when the roster has a problem."""
    data = read_roster(path, include_demographics=True, progress=progress)
    with write_transaction(engine) as tx:
        summary = _Writer(tx, data, progress).write()
    if not is_sqlite(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                "ANALYZE students, demographics, staff, sections, enrollments, scope_events"
            )
    return summary


def _active_student(enrollment: Mapping[str, Any] | None) -> bool:
    return enrollment is not None and not enrollment["deleted"] and enrollment["role"] == "student"


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH_ROWS):
        yield rows[start : start + BATCH_ROWS]


class _Writer:
    def __init__(self, tx: WriteTx, data: RosterData, progress: Progress | None) -> None:
        self.tx = tx
        self.connection: Connection = tx.connection
        self.data = data
        self.progress = progress
        self.summary = ImportSummary(version=data.version)
        self.org_ids = sorted({org.sourced_id for org in data.orgs})
        self.new_students: set[str] = set()

    def _report(self, stage: str, rows: int) -> None:
        if self.progress is not None:
            self.progress(stage, rows)

    def write(self) -> ImportSummary:
        self.tx.roster_changed = True
        self._orgs()
        student_changes = self._sync(
            "students",
            tables.students,
            ("sourced_id",),
            {
                student.sourced_id: {
                    "given_name": student.given_name,
                    "family_name": student.family_name,
                    "grade": student.grade,
                    "iep": bool(student.iep),
                    "school_id": student.school_id,
                }
                for student in self.data.students
            },
        )
        self.new_students = {key for key, before, _after in student_changes if before is None}
        self._student_events(student_changes)
        self._demographics(
            {key for key, _before, after in student_changes if after and after["deleted"]}
        )
        self._sync(
            "staff",
            tables.staff,
            ("sourced_id",),
            {
                member.sourced_id: {
                    "given_name": member.given_name,
                    "family_name": member.family_name,
                    "role": member.role,
                    "school_id": member.school_id,
                }
                for member in self.data.staff
            },
        )
        self._sync(
            "sections",
            tables.sections,
            ("sourced_id",),
            {
                section.sourced_id: {
                    "title": section.title,
                    "school_id": section.school_id,
                    "course_title": section.course_title,
                    "periods": section.periods,
                }
                for section in self.data.sections
            },
        )
        enrollment_changes = self._sync(
            "enrollments",
            tables.enrollments,
            ("section_id", "user_id"),
            {
                (enrollment.section_id, enrollment.user_id): {
                    "role": enrollment.role,
                    "is_primary": enrollment.primary,
                    "school_id": enrollment.school_id,
                }
                for enrollment in self.data.enrollments
            },
        )
        self._enrollment_events(enrollment_changes)
        start = self.data.school_year_start()
        if start is not None:
            self.summary.school_year_start_changed = store_school_year_start(self.tx, start)
        return self.summary

    def _orgs(self) -> None:
        table = tables.orgs
        existing = {
            row.sourced_id: (row.name, row.type)
            for row in self.connection.execute(
                sa.select(table.c.sourced_id, table.c.name, table.c.type)
            )
        }
        counts = self.summary.counts.setdefault("orgs", TableCounts())
        inserts = []
        for org in self.data.orgs:
            before = existing.get(org.sourced_id)
            if before is None:
                inserts.append(
                    {
                        "sourced_id": org.sourced_id,
                        "name": org.name,
                        "type": org.type,
                        "cursor": self.tx.next_cursor(),
                    }
                )
                counts.added += 1
            elif before != (org.name, org.type):
                self.connection.execute(
                    sa.update(table)
                    .where(table.c.sourced_id == org.sourced_id)
                    .values(name=org.name, type=org.type, cursor=self.tx.next_cursor())
                )
                counts.updated += 1
        if inserts:
            self.connection.execute(sa.insert(table), inserts)

    def _sync(
        self,
        name: str,
        table: sa.Table,
        key_columns: tuple[str, ...],
        wanted: Mapping[Any, dict[str, Any]],
    ) -> list[tuple[Any, dict[str, Any] | None, dict[str, Any] | None]]:
        """Make ``table`` match ``wanted`` for the roster's orgs; returns the changes as
        (key, before or None, after or None) with ``deleted`` in both."""
        value_columns = [
            column.name for column in table.c if column.name not in (*key_columns, "cursor")
        ]
        existing: dict[Any, dict[str, Any]] = {}
        for row in self.connection.execute(sa.select(table)).mappings():
            key = (
                row[key_columns[0]] if len(key_columns) == 1 else tuple(row[c] for c in key_columns)
            )
            existing[key] = {column: row[column] for column in value_columns}
        counts = self.summary.counts.setdefault(name, TableCounts())
        changes: list[tuple[Any, dict[str, Any] | None, dict[str, Any] | None]] = []
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []

        def keyed(key: Any) -> dict[str, Any]:
            parts = (key,) if len(key_columns) == 1 else key
            return {f"k_{column}": part for column, part in zip(key_columns, parts, strict=True)}

        def settable(values: dict[str, Any]) -> dict[str, Any]:
            return {
                **{f"v_{column}": value for column, value in values.items()},
                "v_cursor": self.tx.next_cursor(),
            }

        for key, values in wanted.items():
            after = {**values, "deleted": False}
            before = existing.get(key)
            if before is None:
                parts = (key,) if len(key_columns) == 1 else key
                inserts.append(
                    {
                        **dict(zip(key_columns, parts, strict=True)),
                        **after,
                        "cursor": self.tx.next_cursor(),
                    }
                )
                counts.added += 1
                changes.append((key, None, after))
            elif before != after:
                updates.append({**keyed(key), **settable(after)})
                counts.updated += 1
                changes.append((key, before, after))
        org_ids = set(self.org_ids)
        for key, before in existing.items():
            if key in wanted or before["deleted"] or before.get("school_id") not in org_ids:
                continue
            after = {**before, "deleted": True}
            updates.append({**keyed(key), **settable(after)})
            counts.deleted += 1
            changes.append((key, before, after))
        for chunk in _chunks(inserts):
            self.connection.execute(sa.insert(table), list(chunk))
            self._report(f"writing {name}", len(chunk))
        if updates:
            statement = (
                sa.update(table)
                .where(*(table.c[column] == sa.bindparam(f"k_{column}") for column in key_columns))
                .values(
                    {column: sa.bindparam(f"v_{column}") for column in [*value_columns, "cursor"]}
                )
            )
            for chunk in _chunks(updates):
                self.connection.execute(statement, list(chunk))
                self._report(f"updating {name}", len(chunk))
        return changes

    def _event(
        self, student_id: str, school_id: str | None, section_id: str | None
    ) -> dict[str, Any]:
        return {
            "cursor": self.tx.next_cursor(),
            "student_id": student_id,
            "school_id": school_id,
            "section_id": section_id,
            "record_id": None,
        }

    def _student_events(
        self, changes: list[tuple[Any, dict[str, Any] | None, dict[str, Any] | None]]
    ) -> None:
        """A student who moved school, left or came back: both schools re-decide."""
        events = []
        for student_id, before, after in changes:
            if before is None or after is None:
                continue
            moved = before["school_id"] != after["school_id"]
            if moved or before["deleted"] != after["deleted"]:
                events.append(self._event(student_id, before["school_id"], None))
                if moved:
                    events.append(self._event(student_id, after["school_id"], None))
        if events:
            self.connection.execute(sa.insert(tables.scope_events), events)

    def _enrollment_events(
        self, changes: list[tuple[Any, dict[str, Any] | None, dict[str, Any] | None]]
    ) -> None:
        """A student who joined or left a section: that section's devices re-decide. A student
        new to the server has no records yet, so joining needs no event: the student's row
        reaches the section's devices anyway."""
        events = []
        for (section_id, user_id), before, after in changes:
            if user_id in self.new_students:
                continue
            if _active_student(before) != _active_student(after):
                state = after or before
                assert state is not None
                events.append(self._event(user_id, state["school_id"], section_id))
        if events:
            self.connection.execute(sa.insert(tables.scope_events), events)

    def _demographics(self, deleted_students: set[str]) -> None:
        """Match the demographics of the roster's students (server only, never synced); a
        student who left loses theirs."""
        table = tables.demographics
        wanted = {
            row.student_id: {
                "birth_date": row.birth_date,
                "sex": row.sex,
                "race": list(row.race),
                "hispanic_or_latino": row.hispanic_or_latino,
            }
            for row in self.data.demographics
        }
        existing = {
            row.student_id: {
                "birth_date": row.birth_date,
                "sex": row.sex,
                "race": list(row.race or []),
                "hispanic_or_latino": row.hispanic_or_latino,
            }
            for row in self.connection.execute(sa.select(table))
        }
        roster_students = {student.sourced_id for student in self.data.students}
        counts = self.summary.counts.setdefault("demographics", TableCounts())
        inserts = [
            {"student_id": key, **values} for key, values in wanted.items() if key not in existing
        ]
        updates = [
            {"k_student_id": key, **{f"v_{name}": value for name, value in values.items()}}
            for key, values in wanted.items()
            if key in existing and existing[key] != values
        ]
        removed = [
            key
            for key in existing
            if key not in wanted and (key in roster_students or key in deleted_students)
        ]
        for chunk in _chunks(inserts):
            self.connection.execute(sa.insert(table), list(chunk))
        if updates:
            statement = (
                sa.update(table)
                .where(table.c.student_id == sa.bindparam("k_student_id"))
                .values({name: sa.bindparam(f"v_{name}") for name in DEMOGRAPHIC_COLUMNS})
            )
            for chunk in _chunks(updates):
                self.connection.execute(statement, list(chunk))
        for start in range(0, len(removed), BATCH_ROWS):
            batch = removed[start : start + BATCH_ROWS]
            self.connection.execute(sa.delete(table).where(table.c.student_id.in_(batch)))
        counts.added, counts.updated, counts.deleted = len(inserts), len(updates), len(removed)
