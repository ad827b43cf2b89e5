"""One student's interventions and Take a Breaks for this school year."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from schema.models import Student
from tui.appref import classlog_of
from tui.formatting import day_and_clock, student_name
from tui.records.table import RecordTable
from tui.text import literal

if TYPE_CHECKING:
    from tui.app import ClasslogApp


class HistoryScreen(Screen[None]):
    """A student's school year, newest first; Enter opens a record."""

    HELP = (
        "This student's interventions and Take a Breaks since the school year began, newest "
        "first. Enter opens an intervention to edit, change its level, void it or see its audit "
        "trail."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="history.back", tooltip="Back to the students"),
    ]

    def __init__(self, student: Student) -> None:
        super().__init__()
        self.student = student

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id="history-title", markup=False)
        yield RecordTable(when=day_and_clock, id="history-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(RecordTable).focus()

    def on_screen_resume(self) -> None:
        store = self.classlog.store
        incidents, tabs = store.student_history(self.student.sourced_id)
        live = [incident for incident in incidents if incident.voided_at is None]
        levels = [incident.level for incident in live]
        tab_minutes = sum(tab.minutes or 0 for tab in tabs if tab.voided_at is None)
        iep = ", IEP" if self.student.iep else ""
        self.query_one("#history-title", Static).update(
            Content.assemble(
                ("History: ", "bold"),
                literal(student_name(self.student), "bold"),
                f"{iep}, school year {store.school_year().label}: "
                f"{levels.count(1)} at Level 1, {levels.count(2)} at Level 2, "
                f"{len(tabs)} Take a Breaks ({tab_minutes:.0f} min)",
            )
        )
        self.query_one(RecordTable).show_records(
            incidents, tabs, self.classlog.student_label, store.timezone
        )

    @on(RecordTable.Opened)
    def _open(self, event: RecordTable.Opened) -> None:
        from tui.records.record import RecordScreen

        self.app.push_screen(RecordScreen(event.incident_id))

    def action_back(self) -> None:
        self.dismiss(None)
