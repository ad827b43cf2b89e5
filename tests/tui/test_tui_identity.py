"""Identity on shared devices: the first-run picker lists only the staff of the device's school
(and of its sections when the enrollment named some); a device enrolled for a staff member
opens as that person without asking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from textual.app import App
from tuikit import SCHOOL, STUDENTS, TEACHER

from schema.models import Section, Staff
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen
from tui.setup.first_run import StaffPickerScreen

Seen = Callable[[App[object]], str]
OTHER_SCHOOL = "school-washington"


def two_schools(store: DeviceStore) -> None:
    store.replace_roster(
        orgs=[(SCHOOL, "Lincoln Middle School", "school"), (OTHER_SCHOOL, "Washington", "school")],
        staff=[
            Staff(
                sourced_id=TEACHER,
                given_name="Marisol",
                family_name="Alvarez",
                role="teacher",
                school_id=SCHOOL,
            ),
            Staff(
                sourced_id="staff-whitfield",
                given_name="Jordan",
                family_name="Whitfield",
                role="teacher",
                school_id=SCHOOL,
            ),
            Staff(
                sourced_id="staff-other",
                given_name="Casey",
                family_name="Elsewhere",
                role="teacher",
                school_id=OTHER_SCHOOL,
            ),
        ],
        students=[s.model_copy(update={"school_id": SCHOOL}) for s in STUDENTS],
        sections=[
            Section(sourced_id="sec-p2", title="Science 7", school_id=SCHOOL, periods="2"),
            Section(sourced_id="sec-art", title="Art", school_id=SCHOOL, periods="4"),
        ],
        enrollments=[
            ("sec-p2", TEACHER, "teacher"),
            ("sec-art", "staff-whitfield", "teacher"),
            *(("sec-p2", s.sourced_id, "student") for s in STUDENTS),
        ],
        school_year_start=date(2026, 9, 1),
    )


def enroll(home: Path, staff_id: str | None, sections: list[str]) -> None:
    sync = SyncStore.open(home)
    try:
        sync.record_enrollment(
            server_url="https://district.example",
            school_id=SCHOOL,
            role="classroom",
            staff_id=staff_id,
            section_ids=sections,
        )
    finally:
        sync.close()


async def test_the_picker_lists_only_the_staff_of_the_devices_school(
    bare_store: DeviceStore, home: Path, seen: Seen
) -> None:
    two_schools(bare_store)
    enroll(home, None, [])
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(80, 24)):
        assert isinstance(app.screen, StaffPickerScreen)
        text = seen(app)
        assert "Marisol Alvarez" in text
        assert "Jordan Whitfield" in text
        assert "Casey Elsewhere" not in text


async def test_the_picker_lists_only_the_staff_of_the_enrolled_sections(
    bare_store: DeviceStore, home: Path, seen: Seen
) -> None:
    two_schools(bare_store)
    enroll(home, None, ["sec-art"])
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(80, 24)):
        text = seen(app)
        assert "Jordan Whitfield" in text
        assert "Marisol Alvarez" not in text
        assert "Casey Elsewhere" not in text


async def test_a_device_enrolled_for_a_staff_member_opens_as_them(
    bare_store: DeviceStore, home: Path, seen: Seen
) -> None:
    two_schools(bare_store)
    bare_store.set_config(staff_id="staff-whitfield")
    enroll(home, TEACHER, ["sec-p2"])
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(80, 24)):
        assert isinstance(app.screen, HomeScreen)
        assert "Marisol Alvarez" in seen(app)
    assert bare_store.staff_id == TEACHER
