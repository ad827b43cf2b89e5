"""Pick the section (class period) shown on home, or every student of the school."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schema.rows import SectionRow
from tui.text import literal, one_line

ALL_STUDENTS = "__all__"


def section_label(section: SectionRow) -> Content:
    period = f"Period {one_line(section.periods)}  " if section.periods else ""
    course = f"  ({one_line(section.course_title)})" if section.course_title else ""
    return Content.assemble(period, literal(one_line(section.title)), literal(course))


class SectionPickerScreen(ModalScreen[tuple[SectionRow | None] | None]):
    """Dismisses with ``(section,)``, ``(None,)`` for all students, or None when cancelled."""

    HELP = "Pick a section with the arrows and Enter, or Esc to keep the current one."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sections.cancel", tooltip="Keep this section"),
    ]

    def __init__(self, sections: list[SectionRow], current: SectionRow | None) -> None:
        super().__init__()
        self.sections = sections
        self.current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(section_label(section), id=section.sourced_id) for section in self.sections
        ]
        options.append(Option("All students of the school", id=ALL_STUDENTS))
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Show which section?", "bold"))
            yield OptionList(*options, markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        current_id = self.current.sourced_id if self.current else ALL_STUDENTS
        option_list.highlighted = option_list.get_option_index(current_id)
        option_list.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == ALL_STUDENTS:
            self.dismiss((None,))
            return
        self.dismiss((next(s for s in self.sections if s.sourced_id == event.option.id),))

    def action_cancel(self) -> None:
        self.dismiss(None)
