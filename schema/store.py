"""The device store: the only code that writes the device database.

Every write is one ``BEGIN IMMEDIATE`` transaction holding the record, its audit row, its outbox
row (only for what may leave the device) and the hybrid logical clock advance. Level 1 records
(R1) never enter the outbox; a record edited down to Level 1 loses its pending ops and, if a
version may already be on the server, queues a content-free retraction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schema.clock import HybridClock, Timestamp, WallClock, system_wall_ms
from schema.db import connect, db_path, transaction
from schema.errors import UserError
from schema.fields import REFERRAL_DECISION_FIELDS, row_to_wire
from schema.grid import Grid, GridEntry, GridError, default_grid, parse_grid
from schema.ids import new_id
from schema.models import (
    FOLLOW_UP_DUE_SCHOOL_DAYS,
    INTERVENTION_REVIEW_DAYS,
    LEVEL_2_ONLY_ACTIONS,
    Action,
    AwareDatetime,
    FollowUp,
    FollowUpKind,
    Incident,
    IncidentDraft,
    Intervention,
    InterventionDraft,
    InterventionKind,
    IssSafeguards,
    OfficeReferral,
    Section,
    Staff,
    StartedBy,
    TabEvent,
    TabKind,
    required_follow_ups,
)
from schema.progression import Advice, PriorOccurrence, advise_after
from schema.rows import (
    DeviceReader,
    StudentRow,
    from_text,
    local_timezone_name,
    student_from_row,
    to_text,
)
from schema.rows import required_time as _required_time
from schema.rules import IncidentFacts, RuleViolation, check_actions
from schema.schoolyear import DEFAULT_START, SchoolYear, school_year_for

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_REASON_LENGTH = 500
DEFAULT_SCHOOL_DAY_MINUTES = 390
"""Minutes of one school day, for summing removal minutes as days (district setting)."""
REMOVAL_WARNING_DAYS = 8.0
"""R7: warn from this many days of removal in a school year (10 is a change of placement)."""
CHANGE_OF_PLACEMENT_DAYS = 10.0


class StoreError(UserError):
    """A write a user asked for that the plan or the data does not allow. One clear line."""

    def name_subject(self, subject: str) -> None:
        """Prefix the message with whom it is about (one student of a group save), keeping the
        error's type and attributes: a leaf's constructor may take more than a message."""
        self.args = (f"{subject}: {self}",)


class UnknownStudentError(StoreError):
    pass


class UnknownRecordError(StoreError):
    pass


class LevelNotAllowedError(StoreError):
    pass


class BypassReasonNeededError(StoreError):
    """R5: going above the advised level (a bypass) needs a reason, stored with it."""

    def __init__(self, advice: Advice) -> None:
        self.advice = advice
        super().__init__(
            f"Level {advice.previous_level} earlier had no intervention recorded: going higher "
            "is a bypass of the progression advice and needs a reason (nothing was saved)"
        )


class RuleRefusedError(StoreError):
    """One of the plan's rules (schema.rules) refuses the record; ``rule`` names it."""

    def __init__(self, violation: RuleViolation) -> None:
        self.rule = violation.rule
        super().__init__(violation.detail or str(violation))


class OfficeManagedError(StoreError):
    """R4: the behavior's range starts at Level 3 or above; staff do not log it at 1 or 2."""

    def __init__(self, entry: GridEntry) -> None:
        self.entry = entry
        self.notices = entry.notices
        notices = " ".join(entry.notices)
        super().__init__(
            f"{entry.code} ({entry.behavior}) is office-managed (Levels "
            f"{entry.levels[0]}-{entry.levels[-1]}): contact the office; nothing was logged."
            + (f" {notices}" if notices else "")
        )

    def with_hint(self, hint: str) -> OfficeManagedError:
        """The same refusal with one more sentence (what to do instead)."""
        self.args = (f"{self} {hint}",)
        return self


class IncidentChanges(BaseModel):
    """An edit to an intervention record: only the fields given change."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    level: int | None = Field(default=None, ge=1, le=2)
    behavior_code: str | None = None
    actions: list[Action] | None = None
    occurred_at: AwareDatetime | None = None
    location: str | None = None
    motivation: str | None = None
    others_involved: str | None = None
    note: str | None = Field(default=None, max_length=4000)
    iss_days: float | None = Field(default=None, gt=0, le=1)
    removal_minutes: int | None = Field(default=None, gt=0, le=24 * 60)
    iss_safeguards: IssSafeguards | None = None
    student_id: str | None = Field(default=None, min_length=1)
    bypass_reason: str | None = Field(default=None, max_length=MAX_REASON_LENGTH)


@dataclass(frozen=True, slots=True)
class IepYearTotals:
    """R7: a student with an IEP's removals and TAB Out time in one school year."""

    removal_days: float
    removal_count: int
    tab_out_minutes: float
    school_year: str

    @property
    def warning(self) -> str | None:
        """The warning to show from 8 days of removal on, else None."""
        if self.removal_days >= CHANGE_OF_PLACEMENT_DAYS:
            return (
                f"{self.removal_days:g} days of removal this school year: 10 days is a change "
                "of placement under IDEA. Involve the IEP team."
            )
        if self.removal_days >= REMOVAL_WARNING_DAYS:
            return (
                f"{self.removal_days:g} days of removal this school year: nearing 10 days "
                "(a change of placement under IDEA)."
            )
        return None


@dataclass(frozen=True, slots=True)
class OpenFollowUp:
    follow_up: FollowUp
    incident: Incident


@dataclass
class _Write:
    connection: sqlite3.Connection
    clock: HybridClock
    staff_id: str | None
    now: datetime
    stamps: list[Timestamp] = field(default_factory=list)

    def stamp(self) -> str:
        timestamp = self.clock.tick()
        self.stamps.append(timestamp)
        return timestamp.encode()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _incident_from_row(row: sqlite3.Row) -> Incident:
    safeguards = row["iss_safeguards"]
    return Incident(
        id=row["id"],
        student_id=row["student_id"],
        staff_id=row["staff_id"],
        device_id=row["device_id"],
        behavior_code=row["behavior_code"],
        level=row["level"],
        actions=[Action(action) for action in json.loads(row["actions"])],
        occurred_at=_required_time(row["occurred_at"]),
        tz=row["tz"],
        location=row["location"],
        motivation=row["motivation"],
        others_involved=row["others_involved"],
        note=row["note"],
        iss_days=row["iss_days"],
        removal_minutes=row["removal_minutes"],
        iss_safeguards=IssSafeguards.model_validate_json(safeguards) if safeguards else None,
        iss_recorded_as_removal=bool(row["iss_recorded_as_removal"]),
        advised_level=row["advised_level"],
        progression_bypassed=bool(row["progression_bypassed"]),
        bypass_reason=row["bypass_reason"],
        group_id=row["group_id"],
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row["updated_at"]),
        voided_at=from_text(row["voided_at"]),
        void_reason=row["void_reason"],
        origin=row["origin"],
    )


def _tab_from_row(row: sqlite3.Row) -> TabEvent:
    ready = row["returned_ready"]
    return TabEvent(
        id=row["id"],
        student_id=row["student_id"],
        staff_id=row["staff_id"],
        device_id=row["device_id"],
        kind=TabKind(row["kind"]),
        started_by=StartedBy(row["started_by"]),
        started_at=_required_time(row["started_at"]),
        ended_at=from_text(row["ended_at"]),
        returned_ready=None if ready is None else bool(ready),
        reflection=row["reflection"],
        incident_id=row["incident_id"],
        note=row["note"],
        tz=row["tz"],
        voided_at=from_text(row["voided_at"]),
        void_reason=row["void_reason"],
        origin=row["origin"],
    )


def _follow_up_from_row(row: sqlite3.Row) -> FollowUp:
    return FollowUp(
        id=row["id"],
        incident_id=row["incident_id"],
        kind=FollowUpKind(row["kind"]),
        created_at=_required_time(row["created_at"]),
        due_at=from_text(row["due_at"]),
        done_at=from_text(row["done_at"]),
        done_by=row["done_by"],
        note=row["note"],
        voided_at=from_text(row["voided_at"]),
        origin=row["origin"],
    )


def _intervention_from_row(row: sqlite3.Row) -> Intervention:
    return Intervention(
        id=row["id"],
        student_id=row["student_id"],
        behavior_code=row["behavior_code"],
        kind=InterventionKind(row["kind"]),
        kind_label=row["kind_label"],
        starts_on=date.fromisoformat(row["starts_on"]),
        review_on=date.fromisoformat(row["review_on"]),
        staff_id=row["staff_id"],
        device_id=row["device_id"],
        incident_id=row["incident_id"],
        note=row["note"],
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row["updated_at"]),
        voided_at=from_text(row["voided_at"]),
        void_reason=row["void_reason"],
        origin=row["origin"],
    )


def _referral_from_row(row: sqlite3.Row) -> OfficeReferral:
    return OfficeReferral(
        id=row["id"],
        student_id=row["student_id"],
        behavior_code=row["behavior_code"],
        occurred_at=_required_time(row["occurred_at"]),
        tz=row["tz"],
        location=row["location"],
        staff_id=row["staff_id"],
        device_id=row["device_id"],
        note=row["note"],
        decided_level=row["decided_level"],
        oss_days=row["oss_days"],
        alternatives=json.loads(row["alternatives"]) if row["alternatives"] else None,
        decided_at=from_text(row["decided_at"]),
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row["updated_at"]),
        voided_at=from_text(row["voided_at"]),
        void_reason=row["void_reason"],
        origin=row["origin"],
    )


def _row_wire(kind: str, row: sqlite3.Row) -> dict[str, Any]:
    """A stored row as the JSON fields that may travel for ``kind``."""
    return row_to_wire(kind, row)


def normalize_actions(
    level: int, actions: Sequence[Action], student: StudentRow, safeguards: IssSafeguards | None
) -> tuple[list[Action], bool]:
    """Apply R2 and R7: Level 2-only actions are refused at Level 1; an ISS for a student with an
    IEP without all three safeguards becomes a removal. Returns (actions, recorded_as_removal)."""
    chosen = list(dict.fromkeys(actions))
    if level == 1:
        level_2_only = [action for action in chosen if action in LEVEL_2_ONLY_ACTIONS]
        if level_2_only:
            names = ", ".join(action.value for action in level_2_only)
            raise LevelNotAllowedError(
                f"{names}: Level 2 actions cannot be part of a Level 1 record"
            )
    if Action.ISS in chosen and student.iep and not (safeguards and safeguards.complete):
        chosen = [Action.REMOVAL if action is Action.ISS else action for action in chosen]
        return list(dict.fromkeys(chosen)), True
    return chosen, False


class DeviceStore(DeviceReader):
    """The device's records, roster and grid, with the plan's rules applied on every write."""

    def __init__(self, connection: sqlite3.Connection, *, wall: WallClock = system_wall_ms) -> None:
        super().__init__(connection, wall=wall)
        self._grid: Grid | None = None
        self._grid_version: str | None = None
        with transaction(connection):
            if self.meta("device_id") is None:
                self._set_meta("device_id", new_id())
            if self.meta("hlc") is None:
                self._set_meta("hlc", Timestamp(0, 0, self.meta("device_id") or "").encode())
            if self.meta("timezone") is None:
                self._set_meta("timezone", local_timezone_name())
        device_id = self.meta("device_id")
        assert device_id is not None
        self.device_id = device_id

    @classmethod
    def open(cls, home: Path, *, wall: WallClock = system_wall_ms) -> DeviceStore:
        return cls(connect(db_path(home)), wall=wall)

    def close(self) -> None:
        self.connection.close()

    # -- meta and configuration ------------------------------------------------------------

    def _set_meta(self, key: str, value: str) -> None:
        self.connection.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def set_config(self, **values: str) -> None:
        """Device settings kept in the database (staff_id, timezone, school_year_start, ...)."""
        with transaction(self.connection):
            for key, value in values.items():
                self._set_meta(key, value)

    def school_year_start(self) -> date:
        text = self.meta("school_year_start")
        return date.fromisoformat(text) if text else DEFAULT_START

    def school_year(self, day: date | None = None) -> SchoolYear:
        return school_year_for(day or self.local_today(), self.school_year_start())

    # -- the grid ---------------------------------------------------------------------------

    def grid(self) -> Grid:
        version = self.meta("grid_version") or ""
        if self._grid is None or version != self._grid_version:
            rows = self.connection.execute("SELECT body FROM grid_entries").fetchall()
            if rows:
                self._grid = parse_grid("[" + ",".join(row[0] for row in rows) + "]", "device grid")
            else:
                self._grid = default_grid()
            self._grid_version = version
        return self._grid

    def replace_grid(self, grid: Grid) -> None:
        with transaction(self.connection):
            self._replace_grid_rows(grid)

    def _replace_grid_rows(self, grid: Grid) -> None:
        self.connection.execute("DELETE FROM grid_entries")
        self.connection.executemany(
            "INSERT INTO grid_entries (school_year, grade_band, code, body) VALUES (?, ?, ?, ?)",
            [
                (entry.school_year, entry.grade_band, entry.code, entry.model_dump_json())
                for entry in grid
            ],
        )
        self._set_meta("grid_version", new_id())

    def grid_entry(self, student: StudentRow, code: str, on: date | None = None) -> GridEntry:
        try:
            return self.grid().lookup(self.school_year(on).label, student.grade, code)
        except GridError as error:
            raise StoreError(str(error)) from error

    def behaviors_for(self, student: StudentRow, on: date | None = None) -> list[GridEntry]:
        return self.grid().behaviors(self.school_year(on).label, student.grade)

    # -- roster -----------------------------------------------------------------------------

    def student(self, student_id: str) -> StudentRow:
        row = self.connection.execute(
            "SELECT * FROM students WHERE sourced_id = ?", (student_id,)
        ).fetchone()
        if row is None:
            raise UnknownStudentError(f"unknown student {student_id!r}")
        return student_from_row(row)

    def replace_roster(
        self,
        *,
        orgs: Sequence[tuple[str, str, str]],
        staff: Sequence[Staff],
        students: Sequence[StudentRow],
        sections: Sequence[Section],
        enrollments: Sequence[tuple[str, str, str]],
        school_year_start: date | None = None,
    ) -> None:
        """Replace the device's roster in one transaction: all of it or none of it."""
        with transaction(self.connection):
            for table in ("orgs", "staff", "students", "sections", "enrollments"):
                self.connection.execute(f"DELETE FROM {table}")
            self.connection.executemany(
                "INSERT INTO orgs (sourced_id, name, type) VALUES (?, ?, ?)", orgs
            )
            self.connection.executemany(
                "INSERT INTO staff (sourced_id, given_name, family_name, role, school_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [(s.sourced_id, s.given_name, s.family_name, s.role, s.school_id) for s in staff],
            )
            self.connection.executemany(
                "INSERT INTO students (sourced_id, given_name, family_name, grade, iep, school_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (s.sourced_id, s.given_name, s.family_name, s.grade, int(s.iep), s.school_id)
                    for s in students
                ],
            )
            self.connection.executemany(
                "INSERT INTO sections (sourced_id, title, school_id, periods, course_title) "
                "VALUES (?, ?, ?, ?, ?)",
                [(s.sourced_id, s.title, s.school_id, s.periods, s.course_title) for s in sections],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO enrollments (section_id, user_id, role) VALUES (?, ?, ?)",
                enrollments,
            )
            if school_year_start is not None:
                self._set_meta("school_year_start", school_year_start.isoformat())

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[_Write]:
        with transaction(self.connection):
            last = Timestamp.decode(self.meta("hlc") or "")
            offset = int(self.meta("clock_offset_ms") or 0)
            clock = HybridClock(self.device_id, last, self.wall, offset)
            now = datetime.fromtimestamp(clock.physical_ms() / 1000, tz=UTC)
            write = _Write(self.connection, clock, self.staff_id, now)
            yield write
            if write.stamps:
                self._set_meta("hlc", clock.last.encode())

    def _audit(
        self, write: _Write, entity: str, entity_id: str, action: str, changes: dict[str, Any]
    ) -> None:
        write.connection.execute(
            "INSERT INTO audit (entity, entity_id, action, changes, at, staff_id, hlc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entity,
                entity_id,
                action,
                _json(changes),
                to_text(write.now),
                write.staff_id,
                write.stamp(),
            ),
        )

    def _enqueue(
        self, write: _Write, kind: str, entity_id: str, op: str, fields: dict[str, Any]
    ) -> None:
        if kind == "incident" and op == "upsert" and fields.get("level", 2) != 2:
            raise AssertionError("Level 1 content must never be queued")
        write.connection.execute(
            "INSERT INTO outbox (op_id, kind, entity_id, op, fields, hlc, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (new_id(), kind, entity_id, op, _json(fields), write.stamp(), to_text(write.now)),
        )

    def _require_staff(self) -> str:
        staff_id = self.staff_id
        if not staff_id:
            raise StoreError(
                "this device has no staff member yet: run `classlog roster import PATH --staff ID`"
            )
        return staff_id

    def _latest_prior(
        self, student_id: str, code: str, year: SchoolYear, before: datetime, exclude: str | None
    ) -> tuple[int, PriorOccurrence | None]:
        """How many live occurrences of ``code`` the student had this school year before
        ``before``, and the latest of them with whether an intervention answered it: two reads
        on the progression index, however long the student's history is (the advice is computed
        inside every write that touches the history, so it must not grow with it)."""
        tz = self.timezone
        start = datetime.combine(year.start, time.min, tzinfo=tz)
        where = (
            "WHERE student_id = ? AND behavior_code = ? AND voided_at IS NULL "
            "AND occurred_at >= ? AND occurred_at < ? AND id != ?"
        )
        params = (student_id, code, to_text(start), to_text(before), exclude or "")
        count = int(
            self.connection.execute(f"SELECT count(*) FROM incidents {where}", params).fetchone()[0]
        )
        if not count:
            return 0, None
        row = self.connection.execute(
            f"SELECT id, level, occurred_at FROM incidents {where} "
            "ORDER BY occurred_at DESC, id DESC LIMIT 1",
            params,
        ).fetchone()
        occurred_at = _required_time(row["occurred_at"])
        day = occurred_at.astimezone(tz).date().isoformat()
        answered = self.connection.execute(
            "SELECT 1 FROM interventions WHERE student_id = ? AND voided_at IS NULL "
            "AND (behavior_code IS NULL OR behavior_code = ?) AND starts_on <= ? "
            "AND (incident_id = ? OR starts_on >= ? OR (starts_on <= ? AND ? <= review_on)) "
            "LIMIT 1",
            (
                student_id,
                code,
                before.astimezone(tz).date().isoformat(),
                row["id"],
                day,
                day,
                day,
            ),
        ).fetchone()
        return count, PriorOccurrence(
            incident_id=row["id"],
            level=row["level"],
            occurred_at=occurred_at,
            had_intervention=answered is not None,
        )

    def advice(
        self, student_id: str, code: str, at: datetime | None = None, exclude: str | None = None
    ) -> tuple[GridEntry, Advice]:
        """The grid entry and the progression advice for logging ``code`` for a student now
        (or at ``at``). Raises OfficeManagedError for behaviors staff do not log."""
        student = self.student(student_id)
        moment = at or self.now()
        local_day = moment.astimezone(self.timezone).date()
        entry = self.grid_entry(student, code, local_day)
        if entry.office_managed or not entry.staff_levels:
            raise OfficeManagedError(entry)
        year = self.school_year(local_day)
        count, previous = self._latest_prior(student_id, code, year, moment, exclude)
        return entry, advise_after(entry.staff_levels, count, previous)

    def log_incident(self, draft: IncidentDraft) -> Incident:
        """Save one intervention: the record, its audit row, its follow-ups, and (Level 2 only)
        their outbox rows, in one transaction."""
        return self.log_incidents([draft])[0]

    def log_incidents(self, drafts: Sequence[IncidentDraft]) -> list[Incident]:
        """Save interventions for several students at once: all of them, or none if any one is
        refused (the error names the student)."""
        incident_ids: list[str] = []
        with self._write() as write:
            staff_id = self._require_staff()
            for draft in drafts:
                try:
                    incident_ids.append(self._insert_incident(write, staff_id, draft))
                except StoreError as error:
                    if len(drafts) > 1:
                        error.name_subject(draft.student_id)
                    raise
        return [self.incident(incident_id) for incident_id in incident_ids]

    def _insert_incident(self, write: _Write, staff_id: str, draft: IncidentDraft) -> str:
        student = self.student(draft.student_id)
        occurred_at = draft.occurred_at or write.now
        if occurred_at > write.now + FUTURE_TOLERANCE:
            raise StoreError("the time of an intervention cannot be in the future")
        entry, advice = self.advice(draft.student_id, draft.behavior_code, occurred_at)
        if draft.level not in entry.staff_levels:
            allowed = " or ".join(str(level) for level in entry.staff_levels)
            raise LevelNotAllowedError(
                f"{entry.code} cannot be logged at Level {draft.level}: allowed {allowed}"
            )
        actions, as_removal = normalize_actions(
            draft.level, draft.actions, student, draft.iss_safeguards
        )
        iss_days = (draft.iss_days or 1.0) if Action.ISS in actions or as_removal else None
        removal_minutes = (
            draft.removal_minutes if Action.REMOVAL in actions and not as_removal else None
        )
        self._check_rules(
            entry,
            IncidentFacts(
                level=draft.level,
                actions=tuple(actions),
                iss_days=iss_days,
                removal_minutes=removal_minutes,
                iss_recorded_as_removal=as_removal,
                iss_safeguards=draft.iss_safeguards,
                student_has_iep=student.iep,
            ),
        )
        bypassed = advice.is_bypass(draft.level)
        reason = (draft.bypass_reason or "").strip()
        if bypassed and not reason:
            raise BypassReasonNeededError(advice)
        incident_id = new_id()
        now_text = to_text(write.now)
        write.connection.execute(
            "INSERT INTO incidents (id, student_id, staff_id, device_id, behavior_code, level,"
            " actions, occurred_at, tz, location, motivation, others_involved, note, iss_days,"
            " removal_minutes, iss_safeguards, iss_recorded_as_removal, advised_level,"
            " progression_bypassed, bypass_reason, group_id, created_at, updated_at, hlc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident_id,
                student.sourced_id,
                staff_id,
                self.device_id,
                entry.code,
                draft.level,
                _json([a.value for a in actions]),
                to_text(occurred_at),
                self.timezone.key,
                draft.location,
                draft.motivation,
                draft.others_involved,
                draft.note,
                iss_days,
                removal_minutes,
                draft.iss_safeguards.model_dump_json() if draft.iss_safeguards else None,
                int(as_removal),
                advice.advised_level,
                int(bypassed),
                reason if bypassed else None,
                draft.group_id,
                now_text,
                now_text,
                write.stamp(),
            ),
        )
        self._audit(write, "incident", incident_id, "create", {"level": draft.level})
        self._reconcile_follow_ups(write, incident_id)
        if draft.level == 2:
            self._enqueue_incident_tree(write, incident_id)
        self._readvise(
            write, [(student.sourced_id, entry.code)], skip=incident_id, after=occurred_at
        )
        return incident_id

    @staticmethod
    def _check_rules(entry: GridEntry, facts: IncidentFacts) -> None:
        try:
            check_actions(entry, facts)
        except RuleViolation as violation:
            raise RuleRefusedError(violation) from violation

    def _due_at(self, kind: FollowUpKind, occurred_at: datetime) -> datetime:
        """R6: the end of the Nth school day (Monday to Friday) after the record's local day."""
        configured: dict[str, Any] = json.loads(self.meta("follow_up_due_days") or "{}")
        school_days = int(configured.get(kind.value, FOLLOW_UP_DUE_SCHOOL_DAYS[kind]))
        day = occurred_at.astimezone(self.timezone).date()
        while day.weekday() >= 5:
            day += timedelta(days=1)
        for _ in range(max(0, school_days)):
            day += timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
        return datetime.combine(day, time(23, 59), tzinfo=self.timezone)

    def _reconcile_follow_ups(self, write: _Write, incident_id: str) -> None:
        """R6: add the follow-ups the record now requires (with their due dates); void open
        ones no longer required (an ISS voided from the actions, say). An ISS recorded as a
        removal keeps the ISS's follow-ups. Done follow-ups are history and stay."""
        row = write.connection.execute(
            "SELECT * FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        incident = _incident_from_row(row)
        level = incident.level
        actions = incident.actions
        student = self.student(incident.student_id)
        try:
            title_ix = self.grid_entry(
                student,
                incident.behavior_code,
                incident.occurred_at.astimezone(self.timezone).date(),
            ).title_ix
        except StoreError:
            title_ix = False
        required = required_follow_ups(
            list(actions), title_ix=title_ix, iss_as_removal=incident.iss_recorded_as_removal
        )
        existing = write.connection.execute(
            "SELECT id, kind, done_at FROM follow_ups WHERE incident_id = ? AND voided_at IS NULL",
            (incident_id,),
        ).fetchall()
        present = {row["kind"] for row in existing}
        kept_after_iss = (
            {FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN}
            if Action.REMOVAL in actions
            else set()
        )
        for row in existing:
            kind = FollowUpKind(row["kind"])
            if row["done_at"] is None and kind not in required and kind not in kept_after_iss:
                now_text = to_text(write.now)
                write.connection.execute(
                    "UPDATE follow_ups SET voided_at = ?, hlc = ? WHERE id = ?",
                    (now_text, write.stamp(), row["id"]),
                )
                if level == 2:
                    self._enqueue(write, "follow_up", row["id"], "upsert", {"voided_at": now_text})
        for kind in required:
            if kind.value in present:
                continue
            done = kind is FollowUpKind.FAMILY_CONTACT and Action.FAMILY_CONTACT in actions
            write.connection.execute(
                "INSERT INTO follow_ups (id, incident_id, kind, created_at, due_at, done_at,"
                " done_by, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_id(),
                    incident_id,
                    kind.value,
                    to_text(write.now),
                    to_text(self._due_at(kind, incident.occurred_at)),
                    to_text(write.now) if done else None,
                    write.staff_id if done else None,
                    write.stamp(),
                ),
            )

    def _enqueue_incident_tree(self, write: _Write, incident_id: str) -> None:
        """Queue a Level 2 record whole, with its follow-ups and the link of its TABs."""
        row = write.connection.execute(
            "SELECT * FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        self._enqueue(write, "incident", incident_id, "upsert", _row_wire("incident", row))
        for follow_up in write.connection.execute(
            "SELECT * FROM follow_ups WHERE incident_id = ?", (incident_id,)
        ).fetchall():
            fields = _row_wire("follow_up", follow_up)
            self._enqueue(write, "follow_up", follow_up["id"], "upsert", fields)
        for tab in write.connection.execute(
            "SELECT id FROM tab_events WHERE incident_id = ?", (incident_id,)
        ).fetchall():
            self._enqueue(write, "tab", tab["id"], "upsert", {"incident_id": incident_id})
        for intervention in write.connection.execute(
            "SELECT id FROM interventions WHERE incident_id = ? AND device_id = ?",
            (incident_id, self.device_id),
        ).fetchall():
            self._enqueue_intervention(write, intervention["id"])

    def _withdraw_incident_tree(self, write: _Write, incident_id: str) -> None:
        """R1 on a downgrade to Level 1: drop pending ops, retract what may be on the server (the
        record, its follow-ups and the interventions answering it), and unlink TABs (which still
        sync, without the link)."""
        children = [
            (row[0], row[1])
            for row in write.connection.execute(
                "SELECT id, 'follow_up' FROM follow_ups WHERE incident_id = ? UNION ALL "
                "SELECT id, 'intervention' FROM interventions WHERE incident_id = ? "
                "AND device_id = ?",
                (incident_id, incident_id, self.device_id),
            )
        ]
        for entity_id, kind in [(incident_id, "incident"), *children]:
            write.connection.execute("DELETE FROM outbox WHERE entity_id = ?", (entity_id,))
            if self._may_be_on_server(kind, entity_id):
                self._enqueue(write, kind, entity_id, "retract", {})
        for tab in write.connection.execute(
            "SELECT id FROM tab_events WHERE incident_id = ?", (incident_id,)
        ).fetchall():
            self._scrub_tab_link(write, tab["id"])
        self._scrub_support_links(write, incident_id)

    def _scrub_support_links(self, write: _Write, incident_id: str) -> None:
        """R1: a support request resolved with this record stops naming it, here and in any
        change not yet sent (the server drops its copy of the link when the record's
        retraction arrives)."""
        for pending in write.connection.execute(
            "SELECT seq, fields FROM outbox WHERE kind = 'support_request' AND instr(fields, ?)",
            (incident_id,),
        ).fetchall():
            fields = json.loads(pending["fields"])
            if fields.get("incident_id") == incident_id:
                fields["incident_id"] = None
                write.connection.execute(
                    "UPDATE outbox SET fields = ? WHERE seq = ?", (_json(fields), pending["seq"])
                )
        write.connection.execute(
            "UPDATE support_requests SET incident_id = NULL WHERE incident_id = ?", (incident_id,)
        )

    def _scrub_tab_link(self, write: _Write, tab_id: str) -> None:
        for pending in write.connection.execute(
            "SELECT seq, fields FROM outbox WHERE entity_id = ? AND kind = 'tab'", (tab_id,)
        ).fetchall():
            fields = json.loads(pending["fields"])
            if fields.get("incident_id") is not None:
                fields["incident_id"] = None
                write.connection.execute(
                    "UPDATE outbox SET fields = ? WHERE seq = ?", (_json(fields), pending["seq"])
                )
        if self._may_be_on_server("tab", tab_id):
            self._enqueue(write, "tab", tab_id, "upsert", {"incident_id": None})

    def _may_be_on_server(self, kind: str, entity_id: str) -> bool:
        return (
            self.connection.execute(
                "SELECT 1 FROM remote_copies WHERE kind = ? AND entity_id = ?", (kind, entity_id)
            ).fetchone()
            is not None
        )

    def _owned_incident_row(self, incident_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = self.connection.execute(
            "SELECT * FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            raise UnknownRecordError(f"no record {incident_id!r} on this device")
        if row["device_id"] != self.device_id:
            raise StoreError(
                "this record belongs to another staff member's device: add a follow-up instead"
            )
        return row

    def edit_incident(self, incident_id: str, changes: IncidentChanges) -> Incident:
        """Edit a record this device owns, audited. 2 -> 1 withdraws it from sync (R1);
        1 -> 2 syncs it whole. The progression advice and the bypass flag are recomputed from
        scratch (R5) for this record and for every later one of the same student and behavior."""
        return self._edit_incident(incident_id, lambda _current: changes)

    def _edit_incident(
        self, incident_id: str, changes_for: Callable[[Incident], IncidentChanges]
    ) -> Incident:
        """Edit a record with the changes ``changes_for`` makes of it as stored: the checks,
        the read they stand on and the write share one transaction."""
        with self._write() as write:
            row = self._owned_incident_row(incident_id)
            if row["voided_at"] is not None:
                raise StoreError("a voided record cannot be edited")
            current = _incident_from_row(row)
            changes = changes_for(current)
            student = self.student(changes.student_id or current.student_id)
            given = changes.model_dump(exclude_unset=True)
            level = changes.level if changes.level is not None else current.level
            code = changes.behavior_code or current.behavior_code
            occurred_at = changes.occurred_at or current.occurred_at
            if changes.occurred_at is not None and occurred_at > self.now() + FUTURE_TOLERANCE:
                raise StoreError("the time of an intervention cannot be in the future")
            entry, advice = self.advice(student.sourced_id, code, occurred_at, exclude=incident_id)
            if level not in entry.staff_levels:
                raise LevelNotAllowedError(f"{entry.code} cannot be logged at Level {level}")
            safeguards = changes.iss_safeguards or current.iss_safeguards
            requested = changes.actions if changes.actions is not None else current.actions
            actions, as_removal = normalize_actions(level, requested, student, safeguards)
            as_removal = as_removal or (
                current.iss_recorded_as_removal
                and Action.REMOVAL in actions
                and Action.ISS not in actions
            )
            iss_days = (
                (changes.iss_days or current.iss_days or 1.0)
                if Action.ISS in actions or as_removal
                else None
            )
            removal_minutes = (
                (changes.removal_minutes or current.removal_minutes)
                if Action.REMOVAL in actions and not as_removal
                else None
            )
            self._check_rules(
                entry,
                IncidentFacts(
                    level=level,
                    actions=tuple(actions),
                    iss_days=iss_days,
                    removal_minutes=removal_minutes,
                    iss_recorded_as_removal=as_removal,
                    iss_safeguards=safeguards,
                    student_has_iep=student.iep,
                ),
            )
            bypassed = advice.is_bypass(level)
            reason = (
                given["bypass_reason"] or ""
                if "bypass_reason" in given
                else current.bypass_reason or ""
            ).strip()
            progression_touched = (
                level != current.level
                or entry.code != current.behavior_code
                or student.sourced_id != current.student_id
                or occurred_at != current.occurred_at
            )
            if bypassed and not reason and progression_touched and not current.progression_bypassed:
                raise BypassReasonNeededError(advice)
            new_values: dict[str, Any] = {
                "student_id": student.sourced_id,
                "level": level,
                "behavior_code": entry.code,
                "actions": _json([a.value for a in actions]),
                "occurred_at": to_text(occurred_at),
                "location": given.get("location", current.location),
                "motivation": given.get("motivation", current.motivation),
                "others_involved": given.get("others_involved", current.others_involved),
                "note": given.get("note", current.note),
                "iss_days": iss_days,
                "removal_minutes": removal_minutes,
                "iss_safeguards": safeguards.model_dump_json() if safeguards else None,
                "iss_recorded_as_removal": int(as_removal),
                "advised_level": advice.advised_level,
                "progression_bypassed": int(bypassed),
                "bypass_reason": (reason or None) if bypassed else None,
            }
            changed = {name: value for name, value in new_values.items() if row[name] != value}
            if not changed:
                return current
            self._update_incident(write, row, changed)
            self._reconcile_follow_ups(write, incident_id)
            if current.level == 2 and level == 1:
                self._withdraw_incident_tree(write, incident_id)
            elif current.level == 1 and level == 2:
                self._enqueue_incident_tree(write, incident_id)
            elif level == 2:
                self._enqueue_new_follow_ups(write, incident_id)
            self._readvise(
                write,
                {
                    (current.student_id, current.behavior_code),
                    (student.sourced_id, entry.code),
                },
                skip=incident_id,
            )
        return self.incident(incident_id)

    def _update_incident(self, write: _Write, row: sqlite3.Row, changed: dict[str, Any]) -> None:
        """Write changed fields of a record, audited; a Level 2 record (staying at 2) queues
        the changed fields."""
        incident_id = row["id"]
        values = {**changed, "updated_at": to_text(write.now)}
        assignments = ", ".join(f"{name} = ?" for name in values)
        write.connection.execute(
            f"UPDATE incidents SET {assignments}, hlc = ? WHERE id = ?",
            (*values.values(), write.stamp(), incident_id),
        )
        self._audit(
            write,
            "incident",
            incident_id,
            "edit",
            {name: [row[name], value] for name, value in changed.items()},
        )
        if row["level"] == 2 and values.get("level", 2) == 2:
            fresh = write.connection.execute(
                "SELECT * FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
            wire = _row_wire("incident", fresh)
            self._enqueue(
                write,
                "incident",
                incident_id,
                "upsert",
                {name: wire[name] for name in values if name in wire},
            )

    def _readvise(
        self,
        write: _Write,
        groups: Iterable[tuple[str, str]],
        skip: str | None = None,
        after: datetime | None = None,
    ) -> None:
        """R5 from scratch: recompute the advised level and the bypass flag of this device's own
        live records for each (student, behavior), after anything that changes their history.
        A record that stops being a bypass loses its reason; one that becomes a bypass through
        another record's edit keeps no reason (nobody chose to go higher).

        With ``after`` (a new record's time), only records later than it: a record's advice
        reads only what happened before it, so earlier ones cannot change (and a save now, the
        usual case, re-advises nothing)."""
        since = to_text(after) if after is not None else ""
        for student_id, code in set(groups):
            rows = write.connection.execute(
                "SELECT * FROM incidents WHERE student_id = ? AND behavior_code = ? "
                "AND voided_at IS NULL AND device_id = ? AND id != ? AND occurred_at > ? "
                "ORDER BY occurred_at",
                (student_id, code, self.device_id, skip or "", since),
            ).fetchall()
            for row in rows:
                try:
                    _, advice = self.advice(
                        student_id, code, _required_time(row["occurred_at"]), exclude=row["id"]
                    )
                except StoreError:
                    continue
                bypassed = advice.is_bypass(row["level"])
                wanted = {
                    "advised_level": advice.advised_level,
                    "progression_bypassed": int(bypassed),
                    "bypass_reason": row["bypass_reason"] if bypassed else None,
                }
                changed = {name: value for name, value in wanted.items() if row[name] != value}
                if changed:
                    self._update_incident(write, row, changed)

    def _enqueue_new_follow_ups(self, write: _Write, incident_id: str) -> None:
        for follow_up in write.connection.execute(
            "SELECT f.* FROM follow_ups f WHERE f.incident_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM outbox o WHERE o.entity_id = f.id) AND NOT EXISTS "
            "(SELECT 1 FROM remote_copies r WHERE r.entity_id = f.id)",
            (incident_id,),
        ).fetchall():
            self._enqueue(
                write, "follow_up", follow_up["id"], "upsert", _row_wire("follow_up", follow_up)
            )

    def add_actions(self, incident_id: str, actions: Sequence[Action]) -> Incident:
        """Add actions to a record. An action is not an intervention (R5): progression counts
        only recorded interventions (``add_intervention``)."""
        return self._edit_incident(
            incident_id,
            lambda current: IncidentChanges(actions=[*current.actions, *actions]),
        )

    def void_incident(self, incident_id: str, reason: str) -> Incident:
        """Void instead of delete: the record stays, marked, with the reason."""
        reason = reason.strip()
        if not reason:
            raise StoreError("a reason is needed to void a record")
        if len(reason) > MAX_REASON_LENGTH:
            raise StoreError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
        with self._write() as write:
            row = self._owned_incident_row(incident_id)
            if row["voided_at"] is not None:
                raise StoreError("this record is already voided")
            now_text = to_text(write.now)
            write.connection.execute(
                "UPDATE incidents SET voided_at = ?, void_reason = ?, updated_at = ?, hlc = ? "
                "WHERE id = ?",
                (now_text, reason, now_text, write.stamp(), incident_id),
            )
            self._audit(write, "incident", incident_id, "void", {"reason": reason})
            if row["level"] == 2:
                self._enqueue(
                    write,
                    "incident",
                    incident_id,
                    "upsert",
                    {"voided_at": now_text, "void_reason": reason, "updated_at": now_text},
                )
            self._close_open_follow_ups(write, incident_id, row["level"])
            self._readvise(write, [(row["student_id"], row["behavior_code"])])
        return self.incident(incident_id)

    def _close_open_follow_ups(self, write: _Write, incident_id: str, level: int) -> None:
        """R6: voiding a record closes its open follow-ups as no longer needed."""
        now_text = to_text(write.now)
        for follow_up in write.connection.execute(
            "SELECT id FROM follow_ups WHERE incident_id = ? AND done_at IS NULL "
            "AND voided_at IS NULL",
            (incident_id,),
        ).fetchall():
            write.connection.execute(
                "UPDATE follow_ups SET voided_at = ?, hlc = ? WHERE id = ?",
                (now_text, write.stamp(), follow_up["id"]),
            )
            self._audit(write, "follow_up", follow_up["id"], "void", {"reason": "record voided"})
            if level == 2:
                self._enqueue(
                    write, "follow_up", follow_up["id"], "upsert", {"voided_at": now_text}
                )

    def complete_follow_up(self, follow_up_id: str, note: str = "") -> FollowUp:
        with self._write() as write:
            row = write.connection.execute(
                "SELECT f.*, i.level, i.device_id AS owner FROM follow_ups f "
                "JOIN incidents i ON i.id = f.incident_id WHERE f.id = ?",
                (follow_up_id,),
            ).fetchone()
            if row is None:
                raise UnknownRecordError(f"no follow-up {follow_up_id!r} on this device")
            if row["owner"] != self.device_id:
                raise StoreError(
                    "this follow-up belongs to another staff member's record: they mark it done"
                )
            if row["done_at"] is not None:
                raise StoreError("this follow-up is already done")
            now_text = to_text(write.now)
            write.connection.execute(
                "UPDATE follow_ups SET done_at = ?, done_by = ?, note = ?, hlc = ? WHERE id = ?",
                (now_text, write.staff_id, note, write.stamp(), follow_up_id),
            )
            self._audit(write, "follow_up", follow_up_id, "done", {"note": note})
            if row["level"] == 2:
                self._enqueue(
                    write,
                    "follow_up",
                    follow_up_id,
                    "upsert",
                    {"done_at": now_text, "done_by": write.staff_id, "note": note},
                )
        return self.follow_up(follow_up_id)

    def start_tab(
        self,
        student_id: str,
        kind: TabKind = TabKind.SPOT,
        started_by: StartedBy = StartedBy.TEACHER,
        *,
        incident_id: str | None = None,
        note: str = "",
    ) -> TabEvent:
        """Start a Take a Break. A support, never discipline (R3); it syncs, but a link to a
        Level 1 record stays on the device."""
        tab_id = new_id()
        with self._write() as write:
            staff_id = self._require_staff()
            self.student(student_id)
            running = write.connection.execute(
                "SELECT id FROM tab_events WHERE student_id = ? AND ended_at IS NULL "
                "AND voided_at IS NULL",
                (student_id,),
            ).fetchone()
            if running is not None:
                raise StoreError("this student already has a Take a Break running: stop it first")
            linked_level = None if incident_id is None else self.incident(incident_id).level
            write.connection.execute(
                "INSERT INTO tab_events (id, student_id, staff_id, device_id, kind, started_by,"
                " started_at, incident_id, note, tz, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tab_id,
                    student_id,
                    staff_id,
                    self.device_id,
                    kind.value,
                    started_by.value,
                    to_text(write.now),
                    incident_id,
                    note,
                    self.timezone.key,
                    write.stamp(),
                ),
            )
            self._audit(write, "tab", tab_id, "start", {"kind": kind.value})
            row = write.connection.execute(
                "SELECT * FROM tab_events WHERE id = ?", (tab_id,)
            ).fetchone()
            fields = _row_wire("tab", row)
            if linked_level != 2:
                fields["incident_id"] = None
            self._enqueue(write, "tab", tab_id, "upsert", fields)
        return self.tab(tab_id)

    def stop_tab(
        self, tab_id: str, returned_ready: bool, reflection: str | None = None
    ) -> TabEvent:

        def check(row: sqlite3.Row) -> None:
            if row["ended_at"] is not None:
                raise StoreError("this Take a Break has already ended")

        return self._change_tab(
            tab_id,
            "stop",
            check,
            lambda now_text: {
                "ended_at": now_text,
                "returned_ready": returned_ready,
                "reflection": reflection,
            },
            {"returned_ready": returned_ready},
        )

    def void_tab(self, tab_id: str, reason: str) -> TabEvent:
        reason = reason.strip()
        if not reason:
            raise StoreError("a reason is needed to void a record")

        def check(row: sqlite3.Row) -> None:
            if row["voided_at"] is not None:
                raise StoreError("this Take a Break is already voided")

        return self._change_tab(
            tab_id,
            "void",
            check,
            lambda now_text: {"voided_at": now_text, "void_reason": reason},
            {"reason": reason},
        )

    def _tab_row(self, tab_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = self.connection.execute(
            "SELECT * FROM tab_events WHERE id = ?", (tab_id,)
        ).fetchone()
        if row is None:
            raise UnknownRecordError(f"no Take a Break {tab_id!r} on this device")
        return row

    def _change_tab(
        self,
        tab_id: str,
        action: str,
        check: Callable[[sqlite3.Row], None],
        values_at: Callable[[str], dict[str, Any]],
        audit: dict[str, Any],
    ) -> TabEvent:
        """Set fields of a Take a Break, audited and queued: TAB events always sync (R3).
        ``check`` refuses the change, seeing the row inside the write's transaction."""
        with self._write() as write:
            check(self._tab_row(tab_id))
            values = values_at(to_text(write.now))
            stored = {
                name: int(value) if isinstance(value, bool) else value
                for name, value in values.items()
            }
            assignments = ", ".join(f"{name} = ?" for name in stored)
            write.connection.execute(
                f"UPDATE tab_events SET {assignments}, hlc = ? WHERE id = ?",
                (*stored.values(), write.stamp(), tab_id),
            )
            self._audit(write, "tab", tab_id, action, audit)
            self._enqueue(write, "tab", tab_id, "upsert", values)
        return self.tab(tab_id)

    # -- interventions (R5) -----------------------------------------------------------------

    def add_intervention(self, draft: InterventionDraft) -> Intervention:
        """Record an intervention for a student (and one behavior, or all). Only these count
        for progression (R5). It syncs, except when it answers a Level 1 record: then it stays
        on this device like the record (R1), until the record is edited up to Level 2."""
        intervention_id = new_id()
        with self._write() as write:
            staff_id = self._require_staff()
            student = self.student(draft.student_id)
            code = draft.behavior_code.upper() if draft.behavior_code else None
            if code is not None and not self.grid().by_code(code):
                raise StoreError(f"behavior {code!r} is not in the grid")
            if draft.kind is InterventionKind.DISTRICT and not draft.kind_label.strip():
                raise StoreError("the district's own intervention needs its name")
            if draft.incident_id is not None:
                answered = self.incident(draft.incident_id)
                if answered.student_id != student.sourced_id:
                    raise StoreError("that record is about another student")
                if code is not None and answered.behavior_code != code:
                    raise StoreError("that record is about another behavior")
            starts_on = draft.starts_on or self.local_today()
            review_on = draft.review_on or starts_on + timedelta(
                days=INTERVENTION_REVIEW_DAYS[draft.kind]
            )
            if review_on < starts_on:
                raise StoreError("the review date cannot come before the start")
            now_text = to_text(write.now)
            write.connection.execute(
                "INSERT INTO interventions (id, student_id, behavior_code, kind, kind_label,"
                " starts_on, review_on, staff_id, device_id, incident_id, note, created_at,"
                " updated_at, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    intervention_id,
                    student.sourced_id,
                    code,
                    draft.kind.value,
                    draft.kind_label.strip(),
                    starts_on.isoformat(),
                    review_on.isoformat(),
                    staff_id,
                    self.device_id,
                    draft.incident_id,
                    draft.note,
                    now_text,
                    now_text,
                    write.stamp(),
                ),
            )
            self._audit(write, "intervention", intervention_id, "create", {"kind": draft.kind})
            if self._intervention_syncs(draft.incident_id):
                self._enqueue_intervention(write, intervention_id)
            codes = (
                [code]
                if code is not None
                else [
                    row[0]
                    for row in write.connection.execute(
                        "SELECT DISTINCT behavior_code FROM incidents WHERE student_id = ?",
                        (student.sourced_id,),
                    )
                ]
            )
            self._readvise(write, [(student.sourced_id, each) for each in codes])
        return self.intervention(intervention_id)

    def void_intervention(self, intervention_id: str, reason: str) -> Intervention:
        reason = reason.strip()
        if not reason:
            raise StoreError("a reason is needed to void a record")
        with self._write() as write:
            current = self.intervention(intervention_id)
            if current.voided_at is not None:
                raise StoreError("this intervention is already voided")
            if current.device_id != self.device_id:
                raise StoreError("this intervention was recorded on another staff member's device")
            now_text = to_text(write.now)
            write.connection.execute(
                "UPDATE interventions SET voided_at = ?, void_reason = ?, updated_at = ?, "
                "hlc = ? WHERE id = ?",
                (now_text, reason, now_text, write.stamp(), intervention_id),
            )
            self._audit(write, "intervention", intervention_id, "void", {"reason": reason})
            if self._intervention_syncs(current.incident_id):
                self._enqueue(
                    write,
                    "intervention",
                    intervention_id,
                    "upsert",
                    {"voided_at": now_text, "void_reason": reason, "updated_at": now_text},
                )
            codes = (
                [current.behavior_code]
                if current.behavior_code
                else [
                    row[0]
                    for row in write.connection.execute(
                        "SELECT DISTINCT behavior_code FROM incidents WHERE student_id = ?",
                        (current.student_id,),
                    )
                ]
            )
            self._readvise(write, [(current.student_id, each) for each in codes])
        return self.intervention(intervention_id)

    def _intervention_syncs(self, incident_id: str | None) -> bool:
        """R1: an intervention syncs unless the record it answers is Level 1."""
        if incident_id is None:
            return True
        row = self.connection.execute(
            "SELECT level FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        return row is not None and row["level"] == 2

    def _enqueue_intervention(self, write: _Write, intervention_id: str) -> None:
        row = write.connection.execute(
            "SELECT * FROM interventions WHERE id = ?", (intervention_id,)
        ).fetchone()
        self._enqueue(
            write, "intervention", intervention_id, "upsert", _row_wire("intervention", row)
        )

    def intervention(self, intervention_id: str) -> Intervention:
        row = self.connection.execute(
            "SELECT * FROM interventions WHERE id = ?", (intervention_id,)
        ).fetchone()
        if row is None:
            raise UnknownRecordError(f"no intervention {intervention_id!r} on this device")
        return _intervention_from_row(row)

    def interventions_for(self, student_id: str) -> list[Intervention]:
        """A student's interventions this school year (voided ones included), newest first."""
        year = self.school_year()
        rows = self.connection.execute(
            "SELECT * FROM interventions WHERE student_id = ? AND review_on >= ? "
            "AND starts_on < ? ORDER BY starts_on DESC, created_at DESC",
            (student_id, year.start.isoformat(), year.end.isoformat()),
        )
        return [_intervention_from_row(row) for row in rows]

    # -- office referrals (R10) -------------------------------------------------------------

    def refer_to_office(
        self,
        student_id: str,
        behavior_code: str,
        *,
        occurred_at: datetime | None = None,
        location: str | None = None,
        note: str = "",
    ) -> OfficeReferral:
        """Send a student to the office for a behavior the office handles (its range reaches
        Level 3 or higher). Staff never log such a behavior at 1 or 2 (R4); this is the record
        that they sent the student."""
        note = " ".join(note.split())
        if len(note) > MAX_REASON_LENGTH:
            raise StoreError(f"the note is longer than {MAX_REASON_LENGTH} characters")
        referral_id = new_id()
        with self._write() as write:
            staff_id = self._require_staff()
            student = self.student(student_id)
            moment = occurred_at or write.now
            if moment > write.now + FUTURE_TOLERANCE:
                raise StoreError("the time of a referral cannot be in the future")
            entry = self.grid_entry(
                student, behavior_code.upper(), moment.astimezone(self.timezone).date()
            )
            if entry.levels[-1] < 3:
                raise StoreError(
                    f"{entry.code} is answered by staff at Level 1 or 2, not by the office"
                )
            now_text = to_text(write.now)
            write.connection.execute(
                "INSERT INTO office_referrals (id, student_id, behavior_code, occurred_at, tz,"
                " location, staff_id, device_id, note, created_at, updated_at, hlc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    referral_id,
                    student.sourced_id,
                    entry.code,
                    to_text(moment),
                    self.timezone.key,
                    location,
                    staff_id,
                    self.device_id,
                    note,
                    now_text,
                    now_text,
                    write.stamp(),
                ),
            )
            self._audit(write, "office_referral", referral_id, "create", {"code": entry.code})
            row = write.connection.execute(
                "SELECT * FROM office_referrals WHERE id = ?", (referral_id,)
            ).fetchone()
            fields = {
                name: value
                for name, value in _row_wire("office_referral", row).items()
                if name not in REFERRAL_DECISION_FIELDS
            }
            self._enqueue(write, "office_referral", referral_id, "upsert", fields)
        return self.office_referral(referral_id)

    def office_referral(self, referral_id: str) -> OfficeReferral:
        row = self.connection.execute(
            "SELECT * FROM office_referrals WHERE id = ?", (referral_id,)
        ).fetchone()
        if row is None:
            raise UnknownRecordError(f"no office referral {referral_id!r} on this device")
        return _referral_from_row(row)

    def office_referrals_for(self, student_id: str) -> list[OfficeReferral]:
        """A student's office referrals this school year, newest first."""
        year = self.school_year()
        start = datetime.combine(year.start, time.min, tzinfo=self.timezone)
        end = datetime.combine(year.end, time.min, tzinfo=self.timezone)
        rows = self.connection.execute(
            "SELECT * FROM office_referrals WHERE student_id = ? AND occurred_at >= ? "
            "AND occurred_at < ? ORDER BY occurred_at DESC, id DESC",
            (student_id, to_text(start), to_text(end)),
        )
        return [_referral_from_row(row) for row in rows]

    # -- students with an IEP (R7) ----------------------------------------------------------

    def school_day_minutes(self) -> int:
        return int(self.meta("school_day_minutes") or DEFAULT_SCHOOL_DAY_MINUTES)

    def iep_year_totals(self, student_id: str, day: date | None = None) -> IepYearTotals:
        """Days of removal and minutes of TAB Out in the school year, for any student (shown for
        students with an IEP). An ISS recorded as a removal counts its days; a removal from
        class counts its minutes as a share of the school day. A TAB is never a removal (R3):
        its minutes are counted apart."""
        year = self.school_year(day)
        start = datetime.combine(year.start, time.min, tzinfo=self.timezone)
        end = datetime.combine(year.end, time.min, tzinfo=self.timezone)
        removal = self.connection.execute(
            "SELECT count(*), "
            "coalesce(sum(CASE WHEN iss_recorded_as_removal THEN iss_days ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN iss_recorded_as_removal THEN 0 "
            "ELSE coalesce(removal_minutes, 0) END), 0) "
            "FROM incidents WHERE student_id = ? AND voided_at IS NULL "
            "AND occurred_at >= ? AND occurred_at < ? "
            "AND EXISTS (SELECT 1 FROM json_each(actions) WHERE value = 'removal')",
            (student_id, to_text(start), to_text(end)),
        ).fetchone()
        days = float(removal[1]) + float(removal[2]) / self.school_day_minutes()
        tab_minutes = 0.0
        for tab in self.tabs_between(start, end, student_id=student_id):
            if tab.voided_at is None and tab.kind is not TabKind.SPOT and tab.minutes:
                tab_minutes += tab.minutes
        return IepYearTotals(
            removal_days=round(days, 2),
            removal_count=int(removal[0]),
            tab_out_minutes=round(tab_minutes, 1),
            school_year=year.label,
        )

    # -- reading ----------------------------------------------------------------------------

    def incident(self, incident_id: str) -> Incident:
        row = self.connection.execute(
            "SELECT * FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            raise UnknownRecordError(f"no record {incident_id!r} on this device")
        return _incident_from_row(row)

    def tab(self, tab_id: str) -> TabEvent:
        row = self.connection.execute("SELECT * FROM tab_events WHERE id = ?", (tab_id,)).fetchone()
        if row is None:
            raise UnknownRecordError(f"no Take a Break {tab_id!r} on this device")
        return _tab_from_row(row)

    def follow_up(self, follow_up_id: str) -> FollowUp:
        row = self.connection.execute(
            "SELECT * FROM follow_ups WHERE id = ?", (follow_up_id,)
        ).fetchone()
        if row is None:
            raise UnknownRecordError(f"no follow-up {follow_up_id!r} on this device")
        return _follow_up_from_row(row)

    def follow_ups_for(self, incident_id: str) -> list[FollowUp]:
        rows = self.connection.execute(
            "SELECT * FROM follow_ups WHERE incident_id = ? ORDER BY created_at, kind",
            (incident_id,),
        )
        return [_follow_up_from_row(row) for row in rows]

    def incidents_between(
        self,
        start: datetime,
        end: datetime,
        *,
        student_id: str | None = None,
        include_voided: bool = True,
    ) -> list[Incident]:
        query = "SELECT * FROM incidents WHERE occurred_at >= ? AND occurred_at < ?"
        params: list[Any] = [to_text(start), to_text(end)]
        if student_id is not None:
            query += " AND student_id = ?"
            params.append(student_id)
        if not include_voided:
            query += " AND voided_at IS NULL"
        rows = self.connection.execute(query + " ORDER BY occurred_at DESC, id DESC", params)
        return [_incident_from_row(row) for row in rows]

    def tabs_between(
        self, start: datetime, end: datetime, *, student_id: str | None = None
    ) -> list[TabEvent]:
        query = "SELECT * FROM tab_events WHERE started_at >= ? AND started_at < ?"
        params: list[Any] = [to_text(start), to_text(end)]
        if student_id is not None:
            query += " AND student_id = ?"
            params.append(student_id)
        rows = self.connection.execute(query + " ORDER BY started_at DESC", params)
        return [_tab_from_row(row) for row in rows]

    def todays_incidents(self) -> list[Incident]:
        return self.incidents_between(*self.day_bounds(self.local_today()))

    def student_history(self, student_id: str) -> tuple[list[Incident], list[TabEvent]]:
        """This school year's interventions and Take a Breaks for one student, newest first."""
        year = self.school_year()
        start = datetime.combine(year.start, time.min, tzinfo=self.timezone)
        end = datetime.combine(year.end, time.min, tzinfo=self.timezone)
        return (
            self.incidents_between(start, end, student_id=student_id),
            self.tabs_between(start, end, student_id=student_id),
        )

    def open_follow_ups(self, limit: int | None = None) -> list[OpenFollowUp]:
        """R6 follow-ups not yet done, on this device's own records that are not voided."""
        rows = self.connection.execute(
            "SELECT f.id AS f_id, f.incident_id AS f_incident_id, f.kind AS f_kind, "
            "f.created_at AS f_created_at, f.due_at AS f_due_at, f.done_at AS f_done_at, "
            "f.done_by AS f_done_by, "
            "f.note AS f_note, f.voided_at AS f_voided_at, f.origin AS f_origin, i.* "
            f"{self._OPEN_FOLLOW_UPS} ORDER BY i.occurred_at, f.kind LIMIT ?",
            (self.device_id, -1 if limit is None else limit),
        ).fetchall()
        return [
            OpenFollowUp(
                FollowUp(
                    id=row["f_id"],
                    incident_id=row["f_incident_id"],
                    kind=FollowUpKind(row["f_kind"]),
                    created_at=_required_time(row["f_created_at"]),
                    due_at=from_text(row["f_due_at"]),
                    done_at=None,
                    done_by=row["f_done_by"],
                    note=row["f_note"],
                    voided_at=None,
                    origin=row["f_origin"],
                ),
                _incident_from_row(row),
            )
            for row in rows
        ]

    def top_behaviors(self, staff_id: str | None = None, limit: int = 9) -> list[str]:
        """The behaviors this staff member logs most (this school year), most used first."""
        year = self.school_year()
        start = datetime.combine(year.start, time.min, tzinfo=self.timezone)
        rows = self.connection.execute(
            "SELECT behavior_code, count(*) AS uses FROM incidents WHERE staff_id = ? "
            "AND voided_at IS NULL AND occurred_at >= ? GROUP BY behavior_code "
            "ORDER BY uses DESC, behavior_code LIMIT ?",
            (staff_id or self.staff_id or "", to_text(start), limit),
        )
        return [row[0] for row in rows]

    def audit_for(self, entity_id: str) -> list[dict[str, Any]]:
        rows = self.connection.execute(
            "SELECT * FROM audit WHERE entity_id = ? ORDER BY id", (entity_id,)
        )
        return [{**dict(row), "changes": json.loads(row["changes"])} for row in rows]

    def dead_letters(self) -> list[dict[str, Any]]:
        """Ops the server refused for good, newest first, each with the ``student_id`` of its
        record when that record is still on this device (else None)."""
        rows = self.connection.execute(
            "SELECT d.op_id, d.kind, d.entity_id, d.op, d.reason, d.at, "
            "coalesce(i.student_id, t.student_id, fi.student_id) AS student_id "
            "FROM dead_letters d "
            "LEFT JOIN incidents i ON d.kind = 'incident' AND i.id = d.entity_id "
            "LEFT JOIN tab_events t ON d.kind = 'tab' AND t.id = d.entity_id "
            "LEFT JOIN follow_ups f ON d.kind = 'follow_up' AND f.id = d.entity_id "
            "LEFT JOIN incidents fi ON fi.id = f.incident_id "
            "ORDER BY d.at DESC, d.op_id"
        )
        return [dict(row) for row in rows]

    def export_rows(self, staff_id: str | None = None) -> list[dict[str, Any]]:
        """A staff member's own records, Level 1 included, for a local export (R1 allows it)."""
        who = staff_id or self.staff_id or ""
        rows: list[dict[str, Any]] = []
        for row in self.connection.execute(
            "SELECT * FROM incidents WHERE staff_id = ? ORDER BY occurred_at, id", (who,)
        ):
            incident = _incident_from_row(row)
            rows.append({"record_type": "intervention", **incident.model_dump(mode="json")})
        tab_rows = self.connection.execute(
            "SELECT * FROM tab_events WHERE staff_id = ? ORDER BY started_at, id", (who,)
        )
        rows.extend(
            {"record_type": "take_a_break", **_tab_from_row(row).model_dump(mode="json")}
            for row in tab_rows
        )
        return rows
