"""One student's interventions and Take a Breaks for this school year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from schema.models import Incident, TabEvent
from schema.rows import StudentRow
from tui.formatting import counted, day_and_clock, student_name
from tui.records.listing import RecordListScreen
from tui.text import literal


class HistoryScreen(RecordListScreen):
    """A student's school year, newest first; Enter opens a record."""

    HELP = (
        "This student's interventions and Take a Breaks since the school year began, newest "
        "first, each saying where it is (kept on this device, waiting to sync, at the district, "
        "refused, withdrawn). Enter opens one: an intervention to edit, change its level or void "
        "it; a Take a Break to see its times and reflection or void it."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="history.back", tooltip="Back to the students"),
    ]
    LIST_NAME = "history"
    SHOW_STUDENT = False

    def __init__(self, student: StudentRow) -> None:
        super().__init__()
        self.student = student

    def when(self, moment: datetime, zone: tzinfo) -> str:
        return day_and_clock(moment, zone)

    def records(self) -> tuple[Sequence[Incident], Sequence[TabEvent]]:
        return self.classlog.store.student_history(self.student.sourced_id)

    def heading(self, incidents: Sequence[Incident], tabs: Sequence[TabEvent]) -> Content:
        levels = [incident.level for incident in incidents if incident.voided_at is None]
        tab_minutes = sum(tab.minutes or 0 for tab in tabs if tab.voided_at is None)
        iep = ", IEP" if self.student.iep else ""
        return Content.assemble(
            ("History: ", "bold"),
            literal(student_name(self.student), "bold"),
            f"{iep}, school year {self.classlog.store.school_year().label}: "
            f"{levels.count(1)} at Level 1, {levels.count(2)} at Level 2, "
            f"{counted(len(tabs), 'break')} ({tab_minutes:.0f} min)",
        )
