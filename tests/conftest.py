"""Fixtures shared by every test folder."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from schema.models import Section, Staff, Student
from schema.store import DeviceStore

MARKUP_NAME = "[@click=app.quit]x[/]"


def seed_roster(store: DeviceStore, *, staff_id: str = "t-1") -> None:
    """A small school: one teacher with one section of four students (one with an IEP, one with
    a name made of markup), and a mobile staff member."""
    store.replace_roster(
        orgs=[("sch-1", "Lincoln Middle School", "school")],
        staff=[
            Staff(
                sourced_id="t-1",
                given_name="Rosa",
                family_name="Alvarez",
                role="teacher",
                school_id="sch-1",
            ),
            Staff(
                sourced_id="m-1",
                given_name="Sam",
                family_name="Okafor",
                role="aide",
                school_id="sch-1",
            ),
        ],
        students=[
            Student(
                sourced_id="s-1",
                given_name="Ana",
                family_name="Lopez",
                grade="07",
                school_id="sch-1",
            ),
            Student(
                sourced_id="s-2",
                given_name="Ben",
                family_name="Nakamura",
                grade="07",
                iep=True,
                school_id="sch-1",
            ),
            Student(
                sourced_id="s-3",
                given_name=MARKUP_NAME,
                family_name="Quinn",
                grade="07",
                school_id="sch-1",
            ),
            Student(
                sourced_id="s-4",
                given_name="Dee",
                family_name="O'Brien",
                grade="08",
                school_id="sch-1",
            ),
        ],
        sections=[Section(sourced_id="sec-1", title="Math 7", school_id="sch-1", periods="1")],
        enrollments=[
            ("sec-1", "t-1", "teacher"),
            ("sec-1", "s-1", "student"),
            ("sec-1", "s-2", "student"),
            ("sec-1", "s-3", "student"),
            ("sec-1", "s-4", "student"),
        ],
        school_year_start=date(2026, 9, 1),
    )
    store.set_config(staff_id=staff_id)


@pytest.fixture
def device_home(tmp_path: Path) -> Path:
    """A device home with the small roster imported and the teacher set."""
    home = tmp_path / "home"
    store = DeviceStore.open(home)
    seed_roster(store)
    store.close()
    return home
