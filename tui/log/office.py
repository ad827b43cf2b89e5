"""Office-managed behaviors (R4): their range starts at Level 3, so staff log nothing at 1 or 2.

The screen says so plainly, repeats the grid's Title IX or mandatory-reporting notices, and
offers to send the student to the office: an office referral (R10), with one optional line and
where it happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static

from schema.grid import OFFICE_MANAGED_NOTICE, GridEntry
from schema.models import LOCATIONS
from schema.rows import StudentRow
from schema.store import StoreError
from tui.appref import classlog_of
from tui.formatting import student_name
from tui.text import literal, one_line

if TYPE_CHECKING:
    from tui.app import ClasslogApp


class OfficeScreen(Screen[None]):
    """Says a behavior is office-managed; nothing is logged at Level 1 or 2. ctrl+o sends the
    student to the office (an office referral), with the optional line typed below."""

    HELP = (
        "This behavior is handled by the office: nothing is logged at Level 1 or 2. Type one "
        "line for the office and choose where it happened (Tab) if you like, then ctrl+o sends "
        "the student to the office (an office referral is saved and syncs). Esc goes back."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+o",
            "refer",
            "Send to the office",
            id="office.refer",
            tooltip="Save an office referral for the student (with the line typed below)",
        ),
        Binding(
            "escape",
            "back",
            "Back to behaviors",
            id="office.back",
            tooltip="Back to the behavior list",
        ),
    ]

    def __init__(self, entry: GridEntry, students: Sequence[StudentRow] = ()) -> None:
        super().__init__()
        self.entry = entry
        self.students = list(students)
        self.referred = False

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        entry = self.entry
        levels = (
            f"Levels {entry.levels[0]}-{entry.levels[-1]}"
            if len(entry.levels) > 1
            else (f"Level {entry.levels[0]}")
        )
        with Vertical(id="office"):
            yield Static(
                Content.styled("OFFICE-MANAGED: contact the office", "bold"), id="office-title"
            )
            yield Static(
                Content.assemble(
                    (one_line(entry.code), "bold"),
                    "  ",
                    literal(one_line(entry.behavior)),
                    f"  ({levels})",
                ),
                markup=False,
            )
            yield Static(
                f"{OFFICE_MANAGED_NOTICE} Staff log only Levels 1 and 2; this behavior starts "
                f"at Level {entry.levels[0]}.",
                markup=False,
            )
            titled = []
            if entry.title_ix:
                titled.append("Title IX")
            if entry.mandatory_reporting:
                titled.append("Mandatory reporting")
            for title, notice in zip(titled, entry.notices, strict=False):
                yield Static(
                    Content.assemble((f"{title}: ", "bold"), notice),
                    classes="notice",
                    markup=False,
                )
            yield Static(
                Content.styled("Nothing was logged.", "bold"), id="office-nothing", markup=False
            )
            if self.students:
                yield Input(
                    placeholder="One line for the office (optional), then ctrl+o",
                    max_length=200,
                    id="office-note",
                )
                yield Select(
                    [(place, place) for place in LOCATIONS],
                    prompt="Where it happened (optional; Tab to choose)",
                    id="office-location",
                    compact=True,
                )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.students:
            self.query_one("#office-note", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "refer":
            return bool(self.students) and not self.referred
        return True

    def action_refer(self) -> None:
        store = self.classlog.store
        note = self.query_one("#office-note", Input).value
        place = self.query_one("#office-location", Select).value
        location = place if isinstance(place, str) else None
        saved = []
        for student in self.students:
            try:
                store.refer_to_office(
                    student.sourced_id, self.entry.code, location=location, note=note
                )
            except StoreError as error:
                self.classlog.report_error(error)
                break
            saved.append(student_name(student))
        if not saved:
            return
        self.referred = True
        self.query_one("#office-nothing", Static).update(
            Content.assemble(
                ("Sent to the office: ", "bold"),
                literal(", ".join(saved)),
                ". The referral is saved and goes to the district when this device syncs; the "
                "office's decision comes back to the student's history. Tell the office as well.",
            )
        )
        self.refresh_bindings()

    def action_back(self) -> None:
        self.dismiss(None)
