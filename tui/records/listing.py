"""A screen listing records in a RecordTable under a title line; Enter opens one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.appref import classlog_of
from tui.records.table import RecordTable

if TYPE_CHECKING:
    from schema.models import Incident, TabEvent
    from tui.app import ClasslogApp


class RecordListScreen(Screen[None]):
    """Subclasses say which records to list (``records``) and what the title line says
    (``heading``); the list is read again each time the screen comes back, so edits show at
    once."""

    LIST_NAME = "records"
    """Prefix of the widget ids: ``<name>-title`` and ``<name>-table``."""

    def when(self, moment: datetime, zone: tzinfo) -> str:
        raise NotImplementedError

    def records(self) -> tuple[Sequence[Incident], Sequence[TabEvent]]:
        raise NotImplementedError

    def heading(self, incidents: Sequence[Incident], tabs: Sequence[TabEvent]) -> Content:
        raise NotImplementedError

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id=f"{self.LIST_NAME}-title", markup=False)
        yield RecordTable(when=self.when, id=f"{self.LIST_NAME}-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(RecordTable).focus()

    def on_screen_resume(self) -> None:
        incidents, tabs = self.records()
        self.query_one(f"#{self.LIST_NAME}-title", Static).update(self.heading(incidents, tabs))
        store = self.classlog.store
        self.query_one(RecordTable).show_records(
            incidents, tabs, self.classlog.student_label, store.timezone
        )

    @on(RecordTable.Opened)
    def _open(self, event: RecordTable.Opened) -> None:
        from tui.records.record import RecordScreen

        self.app.push_screen(RecordScreen(event.incident_id))

    def action_back(self) -> None:
        self.dismiss(None)
