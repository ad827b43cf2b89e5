"""The students a report covers (the denominators of R8's ratios), with the groups each belongs
to. Read from the roster and the server-only demographics; kept in memory per database until the
roster changes (the change counter's roster row moves with every roster or config write)."""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
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


SETTLE_AT = 10_000
"""Students from which a newly cached roster is taken out of the garbage collector's walks."""


def _settle(cached: int) -> None:
    """Take a newly cached roster of ``cached`` students (objects that live until the roster
    changes) out of the cyclic garbage collector's walks: otherwise a full collection that falls
    during a report walks every cached student again, about 60 ms at 42,000 students. What was
    set aside before is given back and garbage is collected first, so nothing that should go is
    kept; the cached objects are still freed as usual when the cache lets go of them (they hold
    no cycles). Small rosters are left alone: walking them costs little."""
    if cached < SETTLE_AT:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()


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
    _settle(len(found))
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
    """The students a report covers, by id, with how many of them each group holds.

    Each student's groups (one per dimension of ``DIMENSIONS``) are numbered as a combination
    (a few hundred in a district): sums over many students are taken per combination number
    first, then per group."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._base: Population | None = None
        self._coded: tuple[dict[str, int], list[tuple[str, ...]]] | None = None
        self._sizes: dict[Dimension, Counter[str]] | None = None

    def with_students(self, added: Iterable[StudentInfo]) -> Population:
        """This population and ``added``, whose groups are worked out from this one's."""
        grown = Population(self)
        grown._base = self
        for student in added:
            grown[student.id] = student
        return grown

    def _added(self) -> Iterable[StudentInfo]:
        """The students this population holds beyond its base (all of them without one)."""
        if self._base is None:
            return self.values()
        return (self[student_id] for student_id in self.keys() - self._base.keys())

    def coded(self) -> tuple[dict[str, int], list[tuple[str, ...]]]:
        """Each student's combination number, and the combinations by number (kept once
        computed, and taken from the base population for the students it holds)."""
        if self._coded is None:
            if self._base is not None:
                base_codes, base_combinations = self._base.coded()
                codes, combinations = dict(base_codes), list(base_combinations)
            else:
                codes, combinations = {}, []
            numbers = {combination: number for number, combination in enumerate(combinations)}
            for student in self._added():
                combination = tuple(student.group(dimension) for dimension in DIMENSIONS)
                number = numbers.get(combination)
                if number is None:
                    number = numbers[combination] = len(combinations)
                    combinations.append(combination)
                codes[student.id] = number
            self._coded = codes, combinations
        return self._coded

    def tally(self, students: Iterable[str]) -> dict[Dimension, Counter[str]]:
        """How many of ``students`` (all in this population) each group of each dimension
        holds."""
        codes, combinations = self.coded()
        per_combination = Counter(map(codes.__getitem__, students))
        return _per_group(
            {combinations[number]: count for number, count in per_combination.items()}
        )

    def sums(
        self, students: Sequence[str], *values: Sequence[int]
    ) -> dict[tuple[str, ...], list[int]]:
        """Per combination of groups of ``students`` (all in this population): how many of them,
        and the sum of each of ``values`` (one per student, in order)."""
        codes, combinations = self.coded()
        totals = [[0] * len(combinations) for _ in range(len(values) + 1)]
        counted = totals[0]
        numbers = list(map(codes.__getitem__, students))
        for number in numbers:
            counted[number] += 1
        for column, sums in zip(values, totals[1:], strict=True):
            for number, value in zip(numbers, column, strict=True):
                sums[number] += value
        return {
            combination: [sums[number] for sums in totals]
            for number, combination in enumerate(combinations)
            if counted[number]
        }

    def sizes(self) -> dict[Dimension, Counter[str]]:
        """How many students each group of each dimension holds (kept once computed)."""
        if self._sizes is None:
            if self._base is None:
                self._sizes = self.tally(self)
            else:
                sizes = {
                    dimension: Counter(found) for dimension, found in self._base.sizes().items()
                }
                added = self.tally(student.id for student in self._added())
                for dimension, found in added.items():
                    sizes[dimension].update(found)
                self._sizes = sizes
        return self._sizes


def _per_group(combined: Mapping[tuple[str, ...], int]) -> dict[Dimension, Counter[str]]:
    """Counts per combination of groups (in ``DIMENSIONS``' order) summed per group."""
    counts: dict[Dimension, Counter[str]] = {dimension: Counter() for dimension in DIMENSIONS}
    for combination, count in combined.items():
        for dimension, group in zip(DIMENSIONS, combination, strict=True):
            counts[dimension][group] += count
    return counts


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
    _settle(len(chosen))
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
