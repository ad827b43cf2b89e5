"""Find on home: a full name typed with its spaces, apostrophes and accents logs for exactly
that student, and the screens that follow name who will be logged for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from textual.app import App
from tuikit import SCHOOL, TEACHER, type_text

from schema.models import Section, Staff, Student
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen
from tui.home.student_list import StudentList
from tui.log.behavior import BehaviorPickerScreen

Seen = Callable[[App[object]], str]

HARD_NAMES = (
    ("Maya", "De La Cruz"),
    ("Hiroshi", "De La Cruz"),
    ("Naomi", "Diallo"),
    ("Naomi", "Dias"),
    ("Ruby", "D'Amico"),
    ("Ruby", "D\N{RIGHT SINGLE QUOTATION MARK}Arcy"),
    ("Mary Ann", "O'Neil"),
    ("Mary Ann", "O'Neill"),
    ("Ana", "Li"),
    ("Ana", "Lim"),
    ("José María", "García-López"),
    ("Jose Maria", "Garcia"),
    ("Renée", "Al-Sayed"),
    ("Zoë", "St. James"),
    ("Åsa", "Öberg"),
    ("Nguyễn", "Văn An"),
    ("Sara", "Bennett"),
    ("Sara", "Bennet"),
    ("Jean-Luc", "Tanaka"),
    ("Björn", "Müller"),
)
"""Names that share words, prefixes, accents or apostrophes with one another."""


def _roster(store: DeviceStore) -> list[Student]:
    students = [
        Student(
            sourced_id=f"s-{index}",
            given_name=given,
            family_name=family,
            grade="07",
            school_id=SCHOOL,
        )
        for index, (given, family) in enumerate(HARD_NAMES)
    ]
    store.replace_roster(
        orgs=[(SCHOOL, "Lincoln Middle School", "school")],
        staff=[
            Staff(
                sourced_id=TEACHER,
                given_name="Marisol",
                family_name="Alvarez",
                role="teacher",
                school_id=SCHOOL,
            )
        ],
        students=students,
        sections=[Section(sourced_id="sec-p2", title="Science 7", school_id=SCHOOL, periods="2")],
        enrollments=[
            ("sec-p2", TEACHER, "teacher"),
            *(("sec-p2", student.sourced_id, "student") for student in students),
        ],
        school_year_start=date(2026, 9, 1),
    )
    store.set_config(staff_id=TEACHER)
    return students


@pytest.mark.slow
async def test_typing_each_full_name_logs_for_exactly_that_student(
    bare_store: DeviceStore, seen: Seen
) -> None:
    students = _roster(bare_store)
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(100, 40)) as pilot:
        for student in students:
            name = student.display_name
            await type_text(pilot, name)
            student_list = app.screen.query_one(StudentList)
            highlighted = student_list.highlighted_student
            assert highlighted is not None, name
            assert highlighted.sourced_id == student.sourced_id, name
            assert f"Enter logs for: {name}" in seen(app)
            await pilot.press("enter")
            assert isinstance(app.screen, BehaviorPickerScreen)
            assert [s.sourced_id for s in app.screen.students] == [student.sourced_id]
            assert f"Log: which behavior? {name} (grade 07)" in seen(app)
            await pilot.press("1")
            assert f"Log: {name} (grade 07)" in seen(app)
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
        logged = sorted(incident.student_id for incident in bare_store.todays_incidents())
        assert logged == sorted(student.sourced_id for student in students)


async def test_space_is_part_of_the_name_and_marks_nobody(
    bare_store: DeviceStore, seen: Seen
) -> None:
    _roster(bare_store)
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "naomi d")
        student_list = app.screen.query_one(StudentList)
        assert student_list.marked == {}
        assert "Find: naomi d" in seen(app)
        await pilot.press("i", "a", "s")
        highlighted = student_list.highlighted_student
        assert highlighted is not None
        assert highlighted.display_name == "Naomi Dias"
        await pilot.press("enter")
        assert "Log: which behavior? Naomi Dias" in seen(app)


async def test_marked_students_and_the_one_typed_are_all_named_before_logging(
    bare_store: DeviceStore, seen: Seen
) -> None:
    _roster(bare_store)
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await type_text(pilot, "ana li")
        await pilot.press("plus")
        assert "Enter logs for: Ana Li" in seen(app)
        await type_text(pilot, "ruby d'a")
        text = seen(app)
        assert "Enter logs for 2: Ana Li, Ruby D'Amico" in text
        await pilot.press("enter")
        assert isinstance(app.screen, BehaviorPickerScreen)
        assert [s.display_name for s in app.screen.students] == ["Ana Li", "Ruby D'Amico"]
        assert "2 students: Ana Li, Ruby D'Amico" in seen(app)
