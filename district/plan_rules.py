"""The server's re-check of the plan's rules (invariant 8) on every write that could break one:
a device's push and an administrator's correction.

A device applies the same rules (``schema.rules``) before it saves, but it may run an old grid,
an old roster (a student's IEP flag, their grade) or be wrong; the server checks the record as
it would stand after the write, against the grid in force for the record's school year and the
student's grade band, and refuses it by the rule's name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables
from district.db import read_school_year_start
from schema.contract import is_zone_name
from schema.grid import Grid, GridEntry, GridError, parse_grid
from schema.models import IssSafeguards
from schema.rules import (
    IncidentFacts,
    RuleViolation,
    check_decision,
    check_incident,
    check_intervention,
    check_referral,
    parse_actions,
)
from schema.schoolyear import school_year_for


class PlanChecker:
    """Reads the grid, the school-year start and students once per transaction, and looks up
    each (school year, grade, behavior) in the grid once."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._grid: Grid | None = None
        self._start: date | None = None
        self._students: dict[str, tuple[str, bool] | None] = {}
        self._entries: dict[tuple[str, str | None, str], GridEntry] = {}

    def grid(self) -> Grid:
        if self._grid is None:
            table = tables.grid_versions
            row = self.connection.execute(
                sa.select(table.c.grid).order_by(table.c.version.desc()).limit(1)
            ).first()
            self._grid = parse_grid(json.dumps(row[0]) if row else "[]", "district grid")
        return self._grid

    def school_year_start(self) -> date:
        if self._start is None:
            self._start = read_school_year_start(self.connection)
        return self._start

    def know_students(self, facts: Mapping[str, tuple[str, bool] | None]) -> None:
        """Take students' grades and IEP flags already read (``RecordSet.plan_facts``)."""
        self._students.update(facts)

    def student(self, student_id: str) -> tuple[str, bool] | None:
        if student_id not in self._students:
            row = self.connection.execute(
                sa.select(tables.students.c.grade, tables.students.c.iep).where(
                    tables.students.c.sourced_id == student_id
                )
            ).first()
            self._students[student_id] = None if row is None else (str(row[0]), bool(row[1]))
        return self._students[student_id]

    def check_incident(self, fields: Mapping[str, Any], student_id: str) -> None:
        """Raise RuleViolation when the Level 2 record ``fields`` (the whole record as it would
        be stored) breaks one of the plan's rules."""
        if fields.get("voided_at") is not None:
            return
        student = self.student(student_id)
        iep = student[1] if student is not None else False
        entry = self.entry(fields, student_id)
        safeguards = fields.get("iss_safeguards")
        check_incident(
            entry,
            IncidentFacts(
                level=int(fields["level"]),
                actions=parse_actions(fields.get("actions") or []),
                iss_days=_number(fields.get("iss_days")),
                removal_minutes=_integer(fields.get("removal_minutes")),
                iss_recorded_as_removal=bool(fields.get("iss_recorded_as_removal")),
                iss_safeguards=IssSafeguards.model_validate(safeguards)
                if isinstance(safeguards, Mapping)
                else None,
                student_has_iep=iep,
            ),
        )

    def entry(self, fields: Mapping[str, Any], student_id: str) -> GridEntry:
        """The grid entry in force for a record's behavior, on its school-local day, for its
        student's grade band (any band's when the roster does not know the student)."""
        student = self.student(student_id)
        occurred_at = datetime.fromisoformat(str(fields["occurred_at"]))
        local_day = occurred_at.astimezone(_zone(str(fields.get("tz") or "UTC"))).date()
        year = _school_year_label(local_day, self.school_year_start())
        code = str(fields["behavior_code"])
        key = (year, None if student is None else student[0], code)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = self._lookup(*key)
        return entry

    def _lookup(self, school_year: str, grade: str | None, code: str) -> GridEntry:
        try:
            if grade is None:
                in_force = self.grid().effective_year(school_year)
                entries = [e for e in self.grid().by_code(code) if e.school_year == in_force]
                if not entries:
                    raise GridError(f"behavior {code!r} is not in the grid for {school_year}")
                return entries[0]
            return self.grid().lookup(school_year, grade, code)
        except GridError as error:
            raise RuleViolation("grid-level", str(error)) from error

    def check_referral(self, fields: Mapping[str, Any], student_id: str) -> None:
        """Raise RuleViolation when the office referral ``fields`` (the whole record as it would
        be stored) is for a behavior staff answer themselves, or carries a decision the plan
        does not allow."""
        if fields.get("voided_at") is not None:
            return
        entry = self.entry(fields, student_id)
        check_referral(entry)
        level = fields.get("decided_level")
        if level is not None:
            check_decision(
                entry,
                int(level),
                float(fields.get("oss_days") or 0),
                [str(text) for text in fields.get("alternatives") or []],
            )

    def check_intervention(self, fields: Mapping[str, Any]) -> None:
        """Raise RuleViolation when the intervention ``fields`` (the whole record as it would be
        stored) breaks one of the plan's rules on interventions."""
        if fields.get("voided_at") is not None:
            return
        check_intervention(
            str(fields["kind"]),
            str(fields.get("kind_label") or ""),
            date.fromisoformat(str(fields["starts_on"])),
            date.fromisoformat(str(fields["review_on"])),
        )


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name) if is_zone_name(name) else UTC


@lru_cache(maxsize=1024)
def _school_year_label(day: date, start: date) -> str:
    return school_year_for(day, start).label


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def refusal_words(violation: RuleViolation) -> str:
    """A refused write's reason, naming the rule first."""
    return f"plan rule {violation.rule}: {violation.detail or violation}"
