"""Helpers for the TUI tests: a small school, a settable wall clock, and the screen as text."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot

from schema.fields import row_to_wire
from schema.models import Action, IncidentDraft, Section, Staff, Student
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import Change

NOW = datetime(2026, 9, 14, 15, 5, tzinfo=UTC)
WALL_MS = int(NOW.timestamp() * 1000)
MARKUP_NAME = "[@click=app.quit]x[/]"
SCHOOL = "school-lincoln"
TEACHER = "staff-alvarez"

STUDENTS = (
    Student(sourced_id="s-maya", given_name="Maya", family_name="Lopez", grade="07"),
    Student(sourced_id="s-sam", given_name="Sam", family_name="Okafor", grade="07", iep=True),
    Student(sourced_id="s-markup", given_name=MARKUP_NAME, family_name="", grade="07"),
    Student(sourced_id="s-evan", given_name="Evan\x1b[31m", family_name="Reyes", grade="07"),
    Student(sourced_id="s-sofia", given_name="Sofía", family_name="Castañeda", grade="07"),
    Student(sourced_id="s-priya", given_name="Priya", family_name="Raman", grade="07"),
    Student(sourced_id="s-thomas", given_name="Thomas", family_name="Nguyen", grade="07"),
    Student(sourced_id="s-ada", given_name="Ada", family_name="Byrne", grade="08"),
)
PERIOD_2 = ("s-maya", "s-sam", "s-markup", "s-evan", "s-sofia", "s-priya", "s-thomas")


class Wall:
    """The store's wall clock, in ms; tests move it forward explicitly."""

    def __init__(self) -> None:
        self.ms = WALL_MS

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


def seed_school(
    store: DeviceStore, *, left: frozenset[str] = frozenset(), extra: Sequence[Student] = ()
) -> None:
    """The school's roster; students whose ids are in ``left`` have left it (as a roster pull
    from the district would have it), and ``extra`` students are in period 2 too."""
    store.replace_roster(
        orgs=[(SCHOOL, "Lincoln Middle School", "school")],
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
                role="aide",
                school_id=SCHOOL,
            ),
        ],
        students=[
            student.model_copy(update={"school_id": SCHOOL})
            for student in (*STUDENTS, *extra)
            if student.sourced_id not in left
        ],
        sections=[
            Section(sourced_id="sec-p2", title="Science 7", school_id=SCHOOL, periods="2"),
            Section(sourced_id="sec-p3", title="Science 8", school_id=SCHOOL, periods="3"),
        ],
        enrollments=[
            ("sec-p2", TEACHER, "teacher"),
            ("sec-p3", TEACHER, "teacher"),
            *(
                ("sec-p2", student_id, "student")
                for student_id in PERIOD_2
                if student_id not in left
            ),
            *(("sec-p2", student.sourced_id, "student") for student in extra),
            ("sec-p3", "s-ada", "student"),
        ],
        school_year_start=date(2026, 9, 1),
    )


def screen_text(app: App[object]) -> str:
    """The terminal's text as the user sees it now (every line of the current screen)."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


FRAME_CHARACTERS = re.compile("[\u2500-\u259f]")


def seen_words(app: App[object]) -> str:
    """The screen's words in reading order, frames removed and whitespace (line wraps too)
    folded to single spaces, so assertions do not depend on where a line wrapped."""
    return " ".join(FRAME_CHARACTERS.sub(" ", screen_text(app)).split())


async def type_text(pilot: Pilot[object], text: str) -> None:
    """Type ``text`` as a terminal would send it, one key per character, each with its
    character (Pilot's ``press`` drops the character of keys such as a curly apostrophe)."""
    app = pilot.app
    for character in text:
        key = character if character.isalnum() else _character_to_key(character)
        event = events.Key(key, character)
        event.set_sender(app)
        assert app._driver is not None
        app._driver.send_message(event)
        await pilot.pause()


def pull_others_level_2(store: DeviceStore, teacher_home: Path, wall: Callable[[], int]) -> str:
    """Ms. Alvarez logs a Level 2 for Sam on her own device (``teacher_home``), and ``store``
    applies it as the daemon applies a pull page from the server. Returns the record's id."""
    teacher = DeviceStore.open(teacher_home, wall=wall)
    try:
        seed_school(teacher)
        teacher.set_config(staff_id=TEACHER, timezone="America/Chicago")
        incident = teacher.log_incident(
            IncidentDraft(
                student_id="s-sam",
                behavior_code="PHYS-CONTACT",
                level=2,
                actions=[Action.SUPPORT_STAFF],
            )
        )
        row = teacher.connection.execute(
            "SELECT * FROM incidents WHERE id = ?", (incident.id,)
        ).fetchone()
        fields = row_to_wire("incident", row)
    finally:
        teacher.close()
    stamp = f"{wall():016d}:0000:server"
    SyncStore(store.connection, wall=wall).apply_pull_page(
        [
            Change(
                cursor=1,
                kind="incident",
                id=incident.id,
                op="upsert",
                fields=fields,
                field_hlc=dict.fromkeys(fields, stamp),
            )
        ],
        1,
    )
    return incident.id
