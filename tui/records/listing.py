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

from schema.places import RecordPlace, RecordRef, record_places
from tui.appref import classlog_of
from tui.records.table import RecordTable

if TYPE_CHECKING:
    from schema.models import Incident, TabEvent
    from schema.store import DeviceStore
    from tui.app import ClasslogApp


class RecordListScreen(Screen[None]):
    """Subclasses say which records to list (``records``) and what the title line says
    (``heading``); the list is read again each time the screen comes back, so edits show at
    once."""

    LIST_NAME = "records"
    """Prefix of the widget ids: ``<name>-title`` and ``<name>-table``."""
    SHOW_STUDENT = True
    """Whether the table has a Student column (not for one student's history)."""

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
        yield RecordTable(
            when=self.when, show_student=self.SHOW_STUDENT, id=f"{self.LIST_NAME}-table"
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(RecordTable).focus()

    def on_screen_resume(self) -> None:
        incidents, tabs = self.records()
        self.query_one(f"#{self.LIST_NAME}-title", Static).update(self.heading(incidents, tabs))
        store = self.classlog.store
        self.query_one(RecordTable).show_records(
            incidents,
            tabs,
            self.classlog.student_label,
            store.timezone,
            places_of(store, incidents, tabs),
        )

    @on(RecordTable.Opened)
    def _open(self, event: RecordTable.Opened) -> None:
        from tui.records.record import RecordScreen

        self.app.push_screen(RecordScreen(event.incident_id))

    @on(RecordTable.TabOpened)
    def _open_tab(self, event: RecordTable.TabOpened) -> None:
        from tui.tabs.record import TabRecordScreen

        self.app.push_screen(TabRecordScreen(event.tab_id))

    def action_back(self) -> None:
        self.dismiss(None)


def places_of(
    store: DeviceStore, incidents: Sequence[Incident], tabs: Sequence[TabEvent]
) -> dict[str, RecordPlace]:
    """Where each listed record is (three small reads per kind)."""
    places = record_places(
        store.connection,
        "incident",
        [
            RecordRef(incident.id, incident.level, incident.device_id == store.device_id)
            for incident in incidents
        ],
    )
    places.update(
        record_places(
            store.connection,
            "tab",
            [RecordRef(tab.id, None, tab.device_id == store.device_id) for tab in tabs],
        )
    )
    return places
