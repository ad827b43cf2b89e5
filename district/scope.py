"""Who a device is and what it may see (invariant 6: a device sees only its scope).

- classroom: the students enrolled in its sections (fixed at enrollment), within its school;
- mobile: every student of its school;
- admin: its school, or the whole district when its code was made without a school (or for an
  org of type ``district``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables

Role = Literal["classroom", "mobile", "admin"]
ROLES: tuple[Role, ...] = ("classroom", "mobile", "admin")
DISTRICT_SCHOOL_ID = "district"
"""The school_id an enrollment answer names for a district-wide admin device with no district
org in the roster."""


@dataclass(frozen=True, slots=True)
class Device:
    """An enrolled device, as read on each request (never cached: revocation is immediate)."""

    id: str
    name: str
    role: Role
    school_id: str | None
    district_scope: bool
    staff_id: str | None
    section_ids: tuple[str, ...]
    revoked_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Device:
        return cls(
            id=row["id"],
            name=row["name"],
            role=cast(Role, row["role"]),
            school_id=row["school_id"],
            district_scope=bool(row["district_scope"]),
            staff_id=row["staff_id"],
            section_ids=tuple(row["section_ids"] or ()),
            revoked_at=row["revoked_at"],
        )


SCHOOL_PARAM = "scope_school"
SECTIONS_PARAM = "scope_sections"
"""The bound parameters of ``visible_student`` (see ``scope_params``)."""


def scope_params(device: Device) -> dict[str, Any]:
    """The values of ``visible_student``'s parameters for ``device``."""
    return {SCHOOL_PARAM: device.school_id, SECTIONS_PARAM: list(device.section_ids)}


def visible_student(
    role: Role, district_scope: bool, student: sa.ColumnElement[str]
) -> sa.ColumnElement[bool]:
    """``student_visible`` for any device of this role and reach, its school and sections left
    as bound parameters (``scope_params``): one statement serves every device of a kind."""
    return _visible(
        role,
        district_scope,
        student,
        sa.bindparam(SCHOOL_PARAM),
        sa.bindparam(SECTIONS_PARAM, expanding=True),
    )


def student_visible(device: Device, student: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A filter: the student named by ``student`` is one the device may see now (on the roster,
    not deleted, and in its sections or school). Written as correlated EXISTS so a query driven
    by a small cursor window looks up only the students it meets."""
    return _visible(
        device.role, device.district_scope, student, device.school_id, device.section_ids
    )


def _visible(
    role: Role,
    district_scope: bool,
    student: sa.ColumnElement[str],
    school: Any,
    sections: Any,
) -> sa.ColumnElement[bool]:
    students = tables.students.alias("scope_student")
    alive = [students.c.sourced_id == student, students.c.deleted.is_(False)]
    if role == "classroom":
        enrollments = tables.enrollments.alias("scope_enrollment")
        return sa.and_(
            sa.exists().where(
                enrollments.c.user_id == student,
                enrollments.c.section_id.in_(sections),
                enrollments.c.role == "student",
                enrollments.c.deleted.is_(False),
            ),
            sa.exists().where(*alive),
        )
    if not district_scope:
        alive.append(students.c.school_id == school)
    return sa.exists().where(*alive)


def students_in_scope(connection: Connection, device: Device, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the device may see now."""
    wanted = sorted(set(ids))
    students = tables.students
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = connection.execute(
            sa.select(students.c.sourced_id).where(
                students.c.sourced_id.in_(wanted[start : start + 500]),
                student_visible(device, students.c.sourced_id),
            )
        )
        found.update(row[0] for row in rows)
    return found


def school_scope_allows(device: Device, school_id: str | None, deleted: bool) -> bool:
    """For a mobile or admin device: may it see a student of ``school_id``?"""
    if deleted:
        return False
    return device.district_scope or (school_id is not None and school_id == device.school_id)


def school_matches(device: Device, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """A filter on a school column: the device's school, or anything for a district device."""
    if device.district_scope:
        return sa.true()
    return column == device.school_id


def may_see_school(device: Device, school_id: str | None) -> bool:
    return device.district_scope or (school_id is not None and school_id == device.school_id)
