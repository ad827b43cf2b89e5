"""Shared fixtures for the device schema tests: a real device database in ``tmp_path`` with a
tiny roster, and a wall clock the test moves by hand.

Test modules never import this file (pytest's advice for conftest files outside packages); they
get the roster's ids from the ``roster`` fixture and the clock from ``wall``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from schema.models import Section, Staff, Student
from schema.store import DeviceStore

SCHOOL_TZ = ZoneInfo("America/Chicago")
SCHOOL_ID = "org-lincoln"
TEACHER_ID = "staff-rivera"
OTHER_TEACHER_ID = "staff-okafor"
STUDENT_ID = "stu-ana"
IEP_STUDENT_ID = "stu-ben"
SIXTH_GRADER_ID = "stu-cal"
SECTION_ID = "sec-math-7"
START = datetime(2026, 10, 14, 10, 0, tzinfo=SCHOOL_TZ)
"""A Wednesday morning inside the 2026-2027 school year of the shipped grid."""


class SteppedWall:
    """A wall clock (milliseconds since the epoch) that only moves when the test says so."""

    def __init__(self, moment: datetime) -> None:
        self.ms = 0
        self.set(moment)

    def __call__(self) -> int:
        return self.ms

    def set(self, moment: datetime) -> None:
        self.ms = int(moment.timestamp() * 1000)

    def advance(self, delta: timedelta) -> None:
        self.ms += int(delta.total_seconds() * 1000)

    @property
    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, tz=SCHOOL_TZ)


@dataclass(frozen=True)
class TinyRoster:
    school_id: str = SCHOOL_ID
    teacher_id: str = TEACHER_ID
    other_teacher_id: str = OTHER_TEACHER_ID
    student_id: str = STUDENT_ID
    """Grade 07, no IEP."""
    iep_student_id: str = IEP_STUDENT_ID
    """Grade 07, with an IEP."""
    sixth_grader_id: str = SIXTH_GRADER_ID
    section_id: str = SECTION_ID
    timezone: ZoneInfo = SCHOOL_TZ
    start: datetime = START


def fill_roster(store: DeviceStore) -> None:
    store.replace_roster(
        orgs=[(SCHOOL_ID, "Lincoln Middle School", "school")],
        staff=[
            Staff(
                sourced_id=TEACHER_ID,
                given_name="Dana",
                family_name="Rivera",
                role="teacher",
                school_id=SCHOOL_ID,
            ),
            Staff(
                sourced_id=OTHER_TEACHER_ID,
                given_name="Ike",
                family_name="Okafor",
                role="teacher",
                school_id=SCHOOL_ID,
            ),
        ],
        students=[
            Student(
                sourced_id=STUDENT_ID,
                given_name="Ana",
                family_name="Abbott",
                grade="07",
                school_id=SCHOOL_ID,
            ),
            Student(
                sourced_id=IEP_STUDENT_ID,
                given_name="Ben",
                family_name="Baker",
                grade="07",
                iep=True,
                school_id=SCHOOL_ID,
            ),
            Student(
                sourced_id=SIXTH_GRADER_ID,
                given_name="Cal",
                family_name="Cruz",
                grade="06",
                school_id=SCHOOL_ID,
            ),
        ],
        sections=[
            Section(
                sourced_id=SECTION_ID,
                title="Math 7",
                school_id=SCHOOL_ID,
                periods="2",
                course_title="Mathematics 7",
            )
        ],
        enrollments=[
            (SECTION_ID, TEACHER_ID, "teacher"),
            (SECTION_ID, STUDENT_ID, "student"),
            (SECTION_ID, IEP_STUDENT_ID, "student"),
            (SECTION_ID, SIXTH_GRADER_ID, "student"),
        ],
    )


@pytest.fixture
def roster() -> TinyRoster:
    return TinyRoster()


@pytest.fixture
def wall() -> SteppedWall:
    return SteppedWall(START)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "classlog-home"


@pytest.fixture
def store(home: Path, wall: SteppedWall) -> Iterator[DeviceStore]:
    """A device store on a real file with the tiny roster, this device's teacher set and the
    school's time zone."""
    device_store = DeviceStore.open(home, wall=wall)
    fill_roster(device_store)
    device_store.set_config(staff_id=TEACHER_ID, timezone=SCHOOL_TZ.key)
    yield device_store
    device_store.close()
