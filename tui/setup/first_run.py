"""First run: which staff member uses this device; or, with no roster, how to import one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schema.rows import DeviceReader, StaffRow
from tui.appref import classlog_of
from tui.home.student_list import folded
from tui.text import fit, literal, one_line

if TYPE_CHECKING:
    from tui.app import ClasslogApp

ROLE_WORDS = {"teacher": "teacher", "aide": "support staff", "administrator": "administrator"}


def _classlog(screen: DOMNode) -> ClasslogApp:
    return classlog_of(screen)


class NoRosterScreen(Screen[None]):
    """Says how to put a roster on this device."""

    HELP = "There is no roster on this device yet. Import one from a terminal, then press r."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Check again", id="no_roster.recheck"),
        Binding("q", "app.quit", "Quit", id="no_roster.quit"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="no-roster", classes="dialog"):
            yield Static(Content.styled("No roster on this device yet", "bold"), markup=False)
            yield Static(
                "classlog needs your school's roster (students, staff and sections) before you "
                "can log anything. In a terminal, run:",
                markup=False,
            )
            yield Static(Content.styled("    classlog roster import PATH", "bold"), markup=False)
            yield Static(
                "where PATH is the OneRoster CSV folder or .zip your district gave you "
                "(add --staff YOUR-ID to say who uses this device). Then press r here, or "
                "start classlog again.",
                markup=False,
            )
        yield Footer(compact=True)

    def action_recheck(self) -> None:
        classlog = _classlog(self)
        classlog.forget_directory()
        next_screen = classlog.get_default_screen()
        if isinstance(next_screen, NoRosterScreen):
            self.notify("Still no roster on this device.", markup=False)
            return
        self.app.push_screen(next_screen)


def device_staff(reader: DeviceReader) -> list[StaffRow]:
    """The staff who may be this device's user: those of the device's school (the one it was
    enrolled for), and of its sections when the enrollment named some and they teach one of
    them. A device not enrolled yet lists everyone of its roster."""
    staff = reader.all_staff()
    school_id = reader.meta("school_id")
    if school_id:
        staff = [member for member in staff if member.school_id == school_id]
    try:
        sections = json.loads(reader.meta("enrolled_sections") or "[]")
    except ValueError:
        sections = []
    if sections and isinstance(sections, list):
        marks = ", ".join("?" * len(sections))
        teaching = {
            row[0]
            for row in reader.connection.execute(
                f"SELECT user_id FROM enrollments WHERE role != 'student' "
                f"AND section_id IN ({marks})",
                [str(section) for section in sections],
            )
        }
        in_sections = [member for member in staff if member.sourced_id in teaching]
        if in_sections:
            staff = in_sections
    return staff


class StaffPickerScreen(Screen[None]):
    """Asks once which staff member uses this device (kept in the device settings)."""

    HELP = "Type part of your name to find it, then Enter. This is asked once per device."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "This is me", id="staff.pick", priority=True),
        Binding("escape", "clear", "Clear", id="staff.clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.staff: list[StaffRow] = []
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Who uses this device?", "bold"), id="staff-title")
        yield Static(id="staff-find", markup=False)
        yield OptionList(id="staff-list", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.staff = device_staff(_classlog(self).reader)
        self._rebuild()
        self.query_one(OptionList).focus()

    def _rebuild(self) -> None:
        needle = folded(self.filter_text)
        shown = [s for s in self.staff if needle in folded(f"{s.display_name} {s.sourced_id}")]
        option_list = self.query_one(OptionList)
        option_list.set_options(
            Option(
                Content.assemble(
                    fit(one_line(member.display_name), 32),
                    "  ",
                    fit(ROLE_WORDS.get(member.role, one_line(member.role)), 16),
                    "  ",
                    literal(one_line(member.sourced_id)),
                ),
                id=member.sourced_id,
            )
            for member in shown
        )
        if shown:
            option_list.highlighted = 0
        find = self.filter_text or "type part of your name, then Enter"
        self.query_one("#staff-find", Static).update(Content.assemble(("Find: ", "bold"), find))

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character and len(character) == 1 and (character.isalnum() or character in " -'."):
            self.filter_text += character
        elif event.key == "backspace" and self.filter_text:
            self.filter_text = self.filter_text[:-1]
        else:
            return
        event.stop()
        event.prevent_default()
        self._rebuild()

    def action_clear(self) -> None:
        self.filter_text = ""
        self._rebuild()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_pick()

    def action_pick(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is None or option.id is None:
            return
        classlog = _classlog(self)
        classlog.store.set_config(staff_id=option.id)
        self.app.push_screen(classlog.get_default_screen())
