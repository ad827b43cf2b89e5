"""The device database read light: plain rows and the reads the teacher's first screen needs.

Only the standard library and classlog's light modules load here, no pydantic: the home screen
is painted from these rows before the models and the store's write path are imported. The
roster rows mirror the models of ``schema.models`` (a test keeps their fields equal); the
device holds its roster read-only, so the store reads it back as these rows too.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schema.clock import WallClock, system_wall_ms
from schema.db import connect, db_path
from schema.vocabulary import StartedBy, TabKind


def to_text(moment: datetime) -> str:
    """UTC, millisecond precision, fixed width: string order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def required_time(text: str) -> datetime:
    moment = from_text(text)
    assert moment is not None
    return moment


def local_timezone_name() -> str:
    """The device's IANA zone name: $TZ, /etc/timezone, the /etc/localtime link, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    try:
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return "UTC"


@dataclass(frozen=True, slots=True)
class StudentRow:
    """A student as the device holds them (R8): name, grade, IEP flag; mirrors ``Student``."""

    sourced_id: str
    given_name: str
    family_name: str
    grade: str = ""
    iep: bool = False
    school_id: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True, slots=True)
class StaffRow:
    """A staff member of the device's roster; mirrors ``Staff``."""

    sourced_id: str
    given_name: str
    family_name: str
    role: str
    school_id: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True, slots=True)
class SectionRow:
    """A class section of the device's roster; mirrors ``Section``."""

    sourced_id: str
    title: str
    school_id: str | None = None
    periods: str = ""
    course_title: str = ""


@dataclass(frozen=True, slots=True)
class RunningTab:
    """A Take a Break that has started and not ended (nor been voided)."""

    id: str
    student_id: str
    staff_id: str
    kind: TabKind
    started_by: StartedBy
    started_at: datetime
    incident_id: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class SyncStatus:
    pending_count: int
    oldest_pending_at: datetime | None
    online: bool | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    dead_letter_count: int
    draining_total: int
    enrolled: bool


def student_from_row(row: sqlite3.Row) -> StudentRow:
    return StudentRow(
        sourced_id=row["sourced_id"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        grade=row["grade"],
        iep=bool(row["iep"]),
        school_id=row["school_id"],
    )


def _staff_from_row(row: sqlite3.Row) -> StaffRow:
    return StaffRow(
        sourced_id=row["sourced_id"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        role=row["role"],
        school_id=row["school_id"],
    )


def _section_from_row(row: sqlite3.Row) -> SectionRow:
    return SectionRow(
        sourced_id=row["sourced_id"],
        title=row["title"],
        school_id=row["school_id"],
        periods=row["periods"],
        course_title=row["course_title"],
    )


class DeviceReader:
    """Reads of the device database that need no models: settings, the roster, today's counts,
    running Take a Breaks, open follow-ups and the sync state. ``DeviceStore`` builds on it."""

    _OPEN_FOLLOW_UPS = (
        "FROM follow_ups f JOIN incidents i ON i.id = f.incident_id WHERE f.done_at IS NULL "
        "AND f.voided_at IS NULL AND i.voided_at IS NULL AND i.device_id = ?"
    )

    def __init__(self, connection: sqlite3.Connection, *, wall: WallClock = system_wall_ms) -> None:
        self.connection = connection
        self.wall = wall

    @classmethod
    def open_reader(cls, home: Path, *, wall: WallClock = system_wall_ms) -> DeviceReader:
        """A reader on the device database in ``home``, created and migrated if need be."""
        return DeviceReader(connect(db_path(home)), wall=wall)

    def close(self) -> None:
        self.connection.close()

    # -- settings and time ----------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def staff_id(self) -> str | None:
        return self.meta("staff_id")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.meta("timezone") or local_timezone_name())

    def now(self) -> datetime:
        """The device's best idea of now: its clock corrected by the server's measured offset."""
        offset = int(self.meta("clock_offset_ms") or 0)
        return datetime.fromtimestamp((self.wall() + offset) / 1000, tz=UTC)

    def local_today(self) -> date:
        return self.now().astimezone(self.timezone).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time.min, tzinfo=self.timezone)
        return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.timezone)

    # -- roster -----------------------------------------------------------------------------

    def students(self, ids: Iterable[str] | None = None) -> dict[str, StudentRow]:
        rows = self.connection.execute(
            "SELECT * FROM students ORDER BY family_name, given_name"
        ).fetchall()
        wanted = None if ids is None else set(ids)
        return {
            row["sourced_id"]: student_from_row(row)
            for row in rows
            if wanted is None or row["sourced_id"] in wanted
        }

    def staff_member(self, staff_id: str) -> StaffRow | None:
        row = self.connection.execute(
            "SELECT * FROM staff WHERE sourced_id = ?", (staff_id,)
        ).fetchone()
        return None if row is None else _staff_from_row(row)

    def all_staff(self) -> list[StaffRow]:
        rows = self.connection.execute("SELECT * FROM staff ORDER BY family_name, given_name")
        return [_staff_from_row(row) for row in rows]

    def sections_for(self, staff_id: str | None) -> list[SectionRow]:
        """The staff member's sections, or every section when they teach none (mobile staff)."""
        rows = self.connection.execute(
            "SELECT s.* FROM sections s JOIN enrollments e ON e.section_id = s.sourced_id "
            "WHERE e.user_id = ? AND e.role != 'student' ORDER BY s.periods, s.title",
            (staff_id or "",),
        ).fetchall()
        if not rows:
            rows = self.connection.execute(
                "SELECT * FROM sections ORDER BY periods, title"
            ).fetchall()
        return [_section_from_row(row) for row in rows]

    def students_in_section(self, section_id: str) -> list[StudentRow]:
        rows = self.connection.execute(
            "SELECT st.* FROM students st JOIN enrollments e ON e.user_id = st.sourced_id "
            "WHERE e.section_id = ? AND e.role = 'student' "
            "ORDER BY st.family_name, st.given_name",
            (section_id,),
        ).fetchall()
        return [student_from_row(row) for row in rows]

    def section_now(self, sections: Sequence[SectionRow]) -> SectionRow | None:
        """The section whose period is on now, by the period schedule in the device settings
        (``period_schedule``: {"1": "08:00-08:50", ...}); None when unknown."""
        schedule_text = self.meta("period_schedule")
        if not schedule_text or not sections:
            return None
        schedule: dict[str, str] = json.loads(schedule_text)
        clock_now = self.now().astimezone(self.timezone).time()
        for period, span in schedule.items():
            start_text, _, end_text = span.partition("-")
            if time.fromisoformat(start_text) <= clock_now < time.fromisoformat(end_text):
                for section in sections:
                    if period in section.periods.replace(" ", "").split(","):
                        return section
        return None

    # -- today ------------------------------------------------------------------------------

    def counts_for_day(self, day: date | None = None) -> dict[str, int]:
        """Interventions per student on a local day (voided ones not counted)."""
        start, end = self.day_bounds(day or self.local_today())
        rows = self.connection.execute(
            "SELECT student_id, count(*) FROM incidents WHERE occurred_at >= ? "
            "AND occurred_at < ? AND voided_at IS NULL GROUP BY student_id",
            (to_text(start), to_text(end)),
        )
        return {row[0]: row[1] for row in rows}

    def running_tabs(self) -> list[RunningTab]:
        rows = self.connection.execute(
            "SELECT id, student_id, staff_id, kind, started_by, started_at, incident_id, note "
            "FROM tab_events WHERE ended_at IS NULL AND voided_at IS NULL ORDER BY started_at"
        )
        return [
            RunningTab(
                id=row["id"],
                student_id=row["student_id"],
                staff_id=row["staff_id"],
                kind=TabKind(row["kind"]),
                started_by=StartedBy(row["started_by"]),
                started_at=required_time(row["started_at"]),
                incident_id=row["incident_id"],
                note=row["note"],
            )
            for row in rows
        ]

    def open_follow_up_count(self) -> int:
        count: int = self.connection.execute(
            f"SELECT count(*) {self._OPEN_FOLLOW_UPS}", (self.meta("device_id") or "",)
        ).fetchone()[0]
        return count

    # -- sync state -------------------------------------------------------------------------

    def sync_status(self) -> SyncStatus:
        pending = self.connection.execute("SELECT count(*), min(created_at) FROM outbox").fetchone()
        state = self.connection.execute("SELECT * FROM sync_state WHERE id = 1").fetchone()
        dead = self.connection.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        online = state["online"]
        return SyncStatus(
            pending_count=pending[0],
            oldest_pending_at=from_text(pending[1]),
            online=None if online is None else bool(online),
            last_success_at=from_text(state["last_success_at"]),
            last_error=state["last_error"],
            last_error_at=from_text(state["last_error_at"]),
            dead_letter_count=dead,
            draining_total=state["draining_total"],
            enrolled=self.meta("server_url") is not None,
        )

    def daemon_pid(self) -> int | None:
        """The pid the sync daemon recorded when it started (None once it stopped cleanly)."""
        row = self.connection.execute("SELECT daemon_pid FROM sync_state WHERE id = 1").fetchone()
        return None if row is None or row[0] is None else int(row[0])
