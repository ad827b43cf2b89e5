"""The students a report covers (the denominators of R8's ratios), with the groups each belongs
to. Read from the roster and the server-only demographics; kept in memory per database until the
roster changes (the change counter's roster row moves with every roster or config write)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables
from district.db import current_cursors
from schema.summaries import DIMENSIONS, Dimension, race_category, sex_group


@dataclass(frozen=True, slots=True)
class StudentInfo:
    id: str
    name: str
    school_id: str | None
    grade: str
    iep: bool
    race: str
    sex: str
    on_roster: bool
    """Not deleted from the roster."""

    def group(self, dimension: Dimension) -> str:
        if dimension == "race":
            return self.race
        if dimension == "sex":
            return self.sex
        if dimension == "iep":
            return "yes" if self.iep else "no"
        return self.grade or "not_reported"


_cache_lock = threading.Lock()
_cache: dict[str, tuple[int, dict[str, StudentInfo]]] = {}


def _read_all(connection: Connection) -> dict[str, StudentInfo]:
    students, demographics = tables.students, tables.demographics
    query = sa.select(
        students.c.sourced_id,
        students.c.given_name,
        students.c.family_name,
        students.c.school_id,
        students.c.grade,
        students.c.iep,
        students.c.deleted,
        demographics.c.sex,
        demographics.c.race,
        demographics.c.hispanic_or_latino,
    ).select_from(
        students.outerjoin(demographics, demographics.c.student_id == students.c.sourced_id)
    )
    found: dict[str, StudentInfo] = {}
    for row in connection.execute(query):
        found[row.sourced_id] = StudentInfo(
            id=row.sourced_id,
            name=f"{row.given_name} {row.family_name}".strip(),
            school_id=row.school_id,
            grade=row.grade or "",
            iep=bool(row.iep),
            race=race_category(row.race, row.hispanic_or_latino),
            sex=sex_group(row.sex),
            on_roster=not row.deleted,
        )
    return found


def all_students(connection: Connection) -> dict[str, StudentInfo]:
    """Every student the server knows, by id (cached until the roster changes)."""
    key = str(connection.engine.url)
    roster_cursor = current_cursors(connection)[1]
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == roster_cursor:
            return cached[1]
    found = _read_all(connection)
    with _cache_lock:
        _cache[key] = (roster_cursor, found)
    return found


def unknown_student(student_id: str) -> StudentInfo:
    """A student named by a record but not on the roster (counted, grouped as not reported)."""
    return StudentInfo(
        id=student_id,
        name=student_id,
        school_id=None,
        grade="",
        iep=False,
        race="not_reported",
        sex="not_reported",
        on_roster=False,
    )


class Population(dict[str, StudentInfo]):
    """The students a report covers, by id, with each dimension's groups of them."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._members: dict[Dimension, dict[str, frozenset[str]]] = {}
        self._group_of: dict[Dimension, dict[str, str]] = {}
        self._base: Population | None = None
        self._groups_of: dict[str, tuple[str, ...]] | None = None

    def with_students(self, added: Iterable[StudentInfo]) -> Population:
        """This population and ``added``, whose groups are worked out from this one's."""
        grown = Population(self)
        grown._base = self
        for student in added:
            grown[student.id] = student
        return grown

    def group_of(self, dimension: Dimension) -> dict[str, str]:
        """Each student's group in ``dimension`` (kept once computed)."""
        found = self._group_of.get(dimension)
        if found is None:
            if self._base is not None:
                found = dict(self._base.group_of(dimension))
                for student_id in self.keys() - self._base.keys():
                    found[student_id] = self[student_id].group(dimension)
            else:
                found = {student.id: student.group(dimension) for student in self.values()}
            self._group_of[dimension] = found
        return found

    def groups_of(self) -> dict[str, tuple[str, ...]]:
        """Each student's group in every dimension of ``DIMENSIONS``, in order (kept once
        computed)."""
        if self._groups_of is None:
            maps = [self.group_of(dimension) for dimension in DIMENSIONS]
            self._groups_of = {
                student_id: tuple(found[student_id] for found in maps) for student_id in self
            }
        return self._groups_of

    def members(self, dimension: Dimension) -> dict[str, frozenset[str]]:
        """The ids of the students in each group of ``dimension`` (kept once computed)."""
        found = self._members.get(dimension)
        if found is None:
            grouped: dict[str, set[str]] = {}
            base = self._base.members(dimension) if self._base is not None else {}
            added = self.keys() - self._base.keys() if self._base is not None else self.keys()
            for student_id in added:
                grouped.setdefault(self[student_id].group(dimension), set()).add(student_id)
            found = {
                group: base.get(group, frozenset()) | frozenset(grouped.get(group, ()))
                for group in base.keys() | grouped.keys()
            }
            self._members[dimension] = found
        return found


_scoped_cache: dict[tuple[Any, ...], tuple[int, Population]] = {}


def _on_roster(
    connection: Connection,
    school_id: str | None,
    grade: str | None,
    group: tuple[Dimension, str] | None,
) -> Population:
    """The students on the roster of the school (or district) now, in the grade and group
    (cached until the roster changes; callers never change it)."""
    key = (str(connection.engine.url), school_id, grade, group)
    roster_cursor = current_cursors(connection)[1]
    with _cache_lock:
        cached = _scoped_cache.get(key)
        if cached is not None and cached[0] == roster_cursor:
            return cached[1]
    chosen = Population()
    for student in all_students(connection).values():
        if not student.on_roster:
            continue
        if school_id is not None and student.school_id != school_id:
            continue
        if grade is not None and student.grade != grade:
            continue
        if group is not None and student.group(group[0]) != group[1]:
            continue
        chosen[student.id] = student
    with _cache_lock:
        if len(_scoped_cache) > 256:
            _scoped_cache.clear()
        _scoped_cache[key] = (roster_cursor, chosen)
    return chosen


def enrolled(
    connection: Connection,
    school_id: str | None,
    grade: str | None,
    group: tuple[Dimension, str] | None,
    with_records: Iterable[str],
) -> Population:
    """The students enrolled in the scope during the period: those on the roster of the school
    (or district) now, in the grade and group, plus every student a counted record names (so
    each numerator is part of its denominator even after a student moved or left)."""
    base = _on_roster(connection, school_id, grade, group)
    extra = set(with_records).difference(base)
    if not extra:
        return base
    everyone = all_students(connection)
    added = [everyone.get(student_id) or unknown_student(student_id) for student_id in extra]
    return base.with_students(added)
