"""Reading a page of changes for one device (DESIGN section 5).

The page covers cursors in (after, top], where ``top`` is the change counter read first (see
``district.db``): every row at or below it has committed, so nothing is skipped. Each source
(records, roster tables, scope events, grid, config) yields at most ``limit + 1`` positions in
the device's scope; they are merged in cursor order and taken until ``limit`` changes. A scope
event (a student entering or leaving the device's scope, or a record leaving a student) expands
at its one cursor into the student's row, enrollments and records, or into their removals;
such an expansion is never split across pages.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import JsonValue
from sqlalchemy.engine import Connection, Engine

from district import records, support, tables
from district.db import current_cursors, read_transaction, utc_now
from district.scope import (
    SCHOOL_PARAM,
    Device,
    Role,
    school_matches,
    scope_params,
    student_visible,
    students_in_scope,
    visible_student,
)
from schema.contract import (
    EnrollmentRecord,
    SectionRecord,
    StaffRecord,
    StudentRecord,
    SyncRecord,
)
from schema.wire import Change, PullKind

ENROLLMENT_ID_SEPARATOR = "|"


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    cursor: int
    has_more: bool


@dataclass(frozen=True)
class _Position:
    cursor: int
    expand: Callable[[], list[Change]]


def enrollment_id(section_id: str, user_id: str) -> str:
    """An enrollment's change id: section and user joined by ``|``."""
    return f"{section_id}{ENROLLMENT_ID_SEPARATOR}{user_id}"


def roster_fields(
    model: type[SyncRecord], row: Any, columns: dict[str, str] | None = None
) -> dict[str, JsonValue]:
    """A roster row as its kind's fields in the record contract: every field the model names,
    read from the column of the same name (or the one ``columns`` maps it to)."""
    mapping = row._mapping
    fields: dict[str, JsonValue] = {}
    for name, info in model.model_fields.items():
        value = mapping[(columns or {}).get(name, name)]
        fields[name] = bool(value) if info.annotation is bool else value
    return fields


def student_fields(row: Any) -> dict[str, JsonValue]:
    """The minimum a device holds about a student (R8): never demographics."""
    return roster_fields(StudentRecord, row)


def _staff_fields(row: Any) -> dict[str, JsonValue]:
    return roster_fields(StaffRecord, row)


def _section_fields(row: Any) -> dict[str, JsonValue]:
    return roster_fields(SectionRecord, row)


def _enrollment_fields(row: Any) -> dict[str, JsonValue]:
    return roster_fields(EnrollmentRecord, row, {"primary": "is_primary"})


def _roster_change(
    kind: PullKind, change_id: str, row: Any, fields: Callable[[Any], dict[str, JsonValue]]
) -> Change:
    if row.deleted:
        return Change(cursor=row.cursor, kind=kind, id=change_id, op="remove")
    return Change(cursor=row.cursor, kind=kind, id=change_id, op="upsert", fields=fields(row))


def _fixed(changes: list[Change]) -> Callable[[], list[Change]]:
    return lambda: changes


class _Pager:
    def __init__(
        self,
        connection: Connection,
        device: Device,
        after: int,
        top: int,
        limit: int,
        roster_top: int,
    ) -> None:
        self.connection = connection
        self.device = device
        self.after = after
        self.top = top
        self.limit = limit
        self.roster_changed = roster_top > after

    def _rows(self, table: sa.Table, where: sa.ColumnElement[bool]) -> list[Any]:
        query = sa.select(table).where(where).order_by(table.c.cursor).limit(sa.bindparam(LIMIT))
        return self._page_of(query)

    def _page_of(self, query: sa.Select[Any]) -> list[Any]:
        """``query``'s rows for this page: its window and one row more than the page holds."""
        return list(self.connection.execute(query, self._params(**{LIMIT: self.limit + 1})))

    def _enrollment_filter(self) -> sa.ColumnElement[bool]:
        enrollments = tables.enrollments
        if self.device.role == "classroom":
            return enrollments.c.section_id.in_(self.device.section_ids)
        return school_matches(self.device, enrollments.c.school_id)

    def _params(self, **more: Any) -> dict[str, Any]:
        return {AFTER: self.after, TOP: self.top, **scope_params(self.device), **more}

    def page(self) -> Page:
        sources = _sources(self.roster_changed)
        changed = set(
            self.connection.execute(_changed_tables(self.roster_changed), self._params()).scalars()
        )
        found = list(self._records(changed))
        for table, source in sources.items():
            if table.name in changed:
                found += source(self)
        positions = sorted(found, key=lambda position: position.cursor)
        taken: list[Change] = []
        consumed = 0
        last = self.after
        for position in positions:
            changes = position.expand()
            if taken and len(taken) + len(changes) > self.limit:
                break
            taken.extend(changes)
            consumed += 1
            last = position.cursor
        has_more = consumed < len(positions)
        return Page(taken, last if has_more else self.top, has_more)

    def _records(self, changed: Collection[str]) -> Iterable[_Position]:
        device = self.device
        for kind, table in tables.RECORD_TABLES.items():
            if table.name not in changed:
                continue
            query = _record_query(kind, device.role, device.district_scope)
            for row in self._page_of(query):
                record = records.Record.from_row(kind, row._mapping)
                yield _Position(record.cursor, _fixed([record.change()]))

    def _support_requests(self) -> Iterable[_Position]:
        rows = support.pull_rows(
            self.connection, self.device, self.after, self.top, self.limit, utc_now()
        )
        for row in rows:
            yield _Position(row.cursor, _fixed([row.change()]))

    def _students(self) -> Iterable[_Position]:
        table = tables.students
        where = sa.and_(
            _bound_window(table.c.cursor), student_visible(self.device, table.c.sourced_id)
        )
        for row in self._rows(table, where):
            change = _roster_change("student", row.sourced_id, row, student_fields)
            yield _Position(row.cursor, _fixed([change]))

    def _staff(self) -> Iterable[_Position]:
        table = tables.staff
        where = sa.and_(
            _bound_window(table.c.cursor), school_matches(self.device, table.c.school_id)
        )
        for row in self._rows(table, where):
            change = _roster_change("staff", row.sourced_id, row, _staff_fields)
            yield _Position(row.cursor, _fixed([change]))

    def _sections(self) -> Iterable[_Position]:
        table = tables.sections
        visible: sa.ColumnElement[bool]
        if self.device.role == "classroom":
            visible = table.c.sourced_id.in_(self.device.section_ids)
        else:
            visible = school_matches(self.device, table.c.school_id)
        for row in self._rows(table, sa.and_(_bound_window(table.c.cursor), visible)):
            change = _roster_change("section", row.sourced_id, row, _section_fields)
            yield _Position(row.cursor, _fixed([change]))

    def _enrollments(self) -> Iterable[_Position]:
        table = tables.enrollments
        where = sa.and_(_bound_window(table.c.cursor), self._enrollment_filter())
        for row in self._rows(table, where):
            change_id = enrollment_id(row.section_id, row.user_id)
            change = _roster_change("enrollment", change_id, row, _enrollment_fields)
            yield _Position(row.cursor, _fixed([change]))

    def _grid(self) -> Iterable[_Position]:
        table = tables.grid_versions
        row = self.connection.execute(
            sa.select(table)
            .where(_bound_window(table.c.cursor))
            .order_by(table.c.cursor.desc())
            .limit(1),
            self._params(),
        ).first()
        if row is not None:
            change = Change(
                cursor=row.cursor,
                kind="grid",
                id="grid",
                op="upsert",
                fields={"version": row.version, "grid": row.grid},
            )
            yield _Position(row.cursor, _fixed([change]))

    def _config(self) -> Iterable[_Position]:
        table = tables.district_config
        for row in self._rows(table, _bound_window(table.c.cursor)):
            change = Change(
                cursor=row.cursor, kind="config", id=row.key, op="upsert", fields=dict(row.value)
            )
            yield _Position(row.cursor, _fixed([change]))

    def _scope_events(self) -> Iterable[_Position]:
        table = tables.scope_events
        where = _bound_window(table.c.cursor)
        if self.device.role == "classroom":
            relevant = sa.or_(
                table.c.section_id.in_(self.device.section_ids),
                sa.and_(
                    table.c.record_id.is_not(None), student_visible(self.device, table.c.student_id)
                ),
            )
            where = sa.and_(where, relevant)
        elif not self.device.district_scope:
            where = sa.and_(where, table.c.school_id == self.device.school_id)
        for row in self._rows(table, where):
            yield _Position(row.cursor, self._expansion(row))

    def _expansion(self, event: Any) -> Callable[[], list[Change]]:
        def expand() -> list[Change]:
            if event.record_id is not None:
                return self._record_event(event)
            return self._student_event(event)

        return expand

    def _record_event(self, event: Any) -> list[Change]:
        record = records.load(self.connection, event.record_id)
        if record is None:
            return []
        visible = (
            not record.tombstone
            and record.student_id is not None
            and bool(students_in_scope(self.connection, self.device, [record.student_id]))
        )
        if visible:
            return [record.change(event.cursor)]
        return [Change(cursor=event.cursor, kind=record.kind, id=record.id, op="remove")]

    def _student_event(self, event: Any) -> list[Change]:
        at = event.cursor
        student_id = event.student_id
        visible = bool(students_in_scope(self.connection, self.device, [student_id]))
        enrollments = tables.enrollments
        enrollment_rows = self.connection.execute(
            sa.select(enrollments).where(
                enrollments.c.user_id == student_id, self._enrollment_filter()
            )
        ).all()
        student_records = records.live_records_of(self.connection, student_id)
        if not visible:
            return [
                Change(cursor=at, kind="student", id=student_id, op="remove"),
                *(
                    Change(
                        cursor=at,
                        kind="enrollment",
                        id=enrollment_id(row.section_id, row.user_id),
                        op="remove",
                    )
                    for row in enrollment_rows
                ),
                *(
                    Change(cursor=at, kind=record.kind, id=record.id, op="remove")
                    for record in student_records
                ),
            ]
        student = self.connection.execute(
            sa.select(tables.students).where(tables.students.c.sourced_id == student_id)
        ).one()
        changes = [
            Change(
                cursor=at,
                kind="student",
                id=student_id,
                op="upsert",
                fields=student_fields(student),
            )
        ]
        for row in enrollment_rows:
            change = _roster_change(
                "enrollment", enrollment_id(row.section_id, row.user_id), row, _enrollment_fields
            )
            changes.append(change.model_copy(update={"cursor": at}))
        changes.extend(record.change(at) for record in student_records)
        return changes


AFTER, TOP, LIMIT = "page_after", "page_top", "page_limit"
"""The bound parameters of the statements a page reads every time (built once per kind of
device: building them again for each of thousands of polling devices cost more than running
them)."""
Source = Callable[[_Pager], Iterable[_Position]]
ROSTER_SOURCES: dict[sa.Table, Source] = {
    tables.students: _Pager._students,
    tables.staff: _Pager._staff,
    tables.sections: _Pager._sections,
    tables.enrollments: _Pager._enrollments,
    tables.grid_versions: _Pager._grid,
    tables.district_config: _Pager._config,
    tables.scope_events: _Pager._scope_events,
}
"""The roster's sources of a page, read only when the roster changed in its window."""


def _sources(roster_changed: bool) -> dict[sa.Table, Source]:
    """A page's sources beside the records: support requests, and the roster's when it
    changed."""
    return {
        tables.support_requests: _Pager._support_requests,
        **(ROSTER_SOURCES if roster_changed else {}),
    }


def _bound_window(column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    return sa.and_(column > sa.bindparam(AFTER), column <= sa.bindparam(TOP))


@lru_cache(maxsize=2)
def _changed_tables(roster_changed: bool) -> sa.CompoundSelect[Any]:
    """Which tables hold a row in the page's cursor window, in one statement: a change wakes
    every long-poll it may concern, and most of a page's sources then have nothing in the
    window. Safe to decide up front: no row ever enters a window below the counter read first
    (see the module docstring). The roster's tables only when the roster changed."""
    candidates = [*tables.RECORD_TABLES.values(), *_sources(roster_changed)]
    return sa.union_all(
        *(
            sa.select(sa.literal(table.name)).where(
                sa.exists().where(_bound_window(table.c.cursor))
            )
            for table in candidates
        )
    )


@lru_cache(maxsize=64)
def _record_query(kind: str, role: Role, district_scope: bool) -> sa.Select[Any]:
    """The records of ``kind`` in the window that a device of this role and reach may see: a
    live one of a student in its scope, or a tombstone of its school."""
    table = tables.RECORD_TABLES[kind]
    where = _bound_window(table.c.cursor)
    if not district_scope:
        where = sa.and_(
            where,
            sa.or_(
                sa.and_(
                    table.c.tombstone.is_(False),
                    visible_student(role, district_scope, table.c.student_id),
                ),
                sa.and_(
                    table.c.tombstone.is_(True), table.c.school_id == sa.bindparam(SCHOOL_PARAM)
                ),
            ),
        )
    return sa.select(table).where(where).order_by(table.c.cursor).limit(sa.bindparam(LIMIT))


def read_page(engine: Engine, device: Device, after: int, limit: int) -> Page:
    """The changes in ``device``'s scope after cursor ``after``, at most ``limit`` (unless one
    cursor's expansion alone is larger)."""
    with read_transaction(engine) as connection:
        top, roster_top = current_cursors(connection)
        if after >= top:
            return Page([], top, False)
        return _Pager(connection, device, after, top, limit, roster_top).page()
