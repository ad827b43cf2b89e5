"""Today's log: every intervention and Take a Break of the day on this device."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.appref import classlog_of
from tui.formatting import clock_text
from tui.records.table import RecordTable

if TYPE_CHECKING:
    from tui.app import ClasslogApp


class TodayScreen(Screen[None]):
    """Today's records, newest first; Enter opens one to edit, change its level or void it."""

    HELP = (
        "Today's interventions and Take a Breaks, newest first. Enter opens an intervention: "
        "there you can edit it, change Level 1 <-> 2, void it with a reason, mark follow-ups "
        "done and see its audit trail. Voided records stay, struck through and marked VOIDED."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="today.back", tooltip="Back to the students"),
    ]

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id="today-title", markup=False)
        yield RecordTable(when=clock_text, id="today-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(RecordTable).focus()

    def on_screen_resume(self) -> None:
        store = self.classlog.store
        incidents = store.todays_incidents()
        tabs = store.tabs_between(*store.day_bounds(store.local_today()))
        live = [incident for incident in incidents if incident.voided_at is None]
        day = store.local_today().strftime("%A %B %d")
        self.query_one("#today-title", Static).update(
            Content.assemble(
                (f"Today's log, {day}: ", "bold"),
                f"{len(live)} intervention{'' if len(live) == 1 else 's'}",
                f" ({len(incidents) - len(live)} voided)" if len(live) < len(incidents) else "",
                f", {len(tabs)} Take a Break{'' if len(tabs) == 1 else 's'}",
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
