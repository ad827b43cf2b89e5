"""Today's log: every intervention and Take a Break of the day on this device."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from schema.models import Incident, TabEvent
from tui.formatting import clock_text, counted
from tui.records.listing import RecordListScreen


class TodayScreen(RecordListScreen):
    """Today's records, newest first; Enter opens one to edit, change its level or void it."""

    HELP = (
        "Today's interventions and Take a Breaks, newest first, each saying where it is (kept on "
        "this device, waiting to sync, at the district, refused, withdrawn). Enter opens one: "
        "an intervention to edit, change between Level 1 and 2, void with a reason, mark "
        "follow-ups done and read its history of changes; a Take a Break to see its times and "
        "reflection, or void it. Voided records stay, struck through and marked VOIDED."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="today.back", tooltip="Back to the students"),
    ]
    LIST_NAME = "today"

    def when(self, moment: datetime, zone: tzinfo) -> str:
        return clock_text(moment, zone)

    def records(self) -> tuple[Sequence[Incident], Sequence[TabEvent]]:
        store = self.classlog.store
        return store.todays_incidents(), store.tabs_between(*store.day_bounds(store.local_today()))

    def heading(self, incidents: Sequence[Incident], tabs: Sequence[TabEvent]) -> Content:
        live = [incident for incident in incidents if incident.voided_at is None]
        day = self.classlog.store.local_today().strftime("%A %B %d")
        return Content.assemble(
            (f"Today's log, {day}: ", "bold"),
            counted(len(live), "intervention"),
            f" ({len(incidents) - len(live)} voided)" if len(live) < len(incidents) else "",
            f", {counted(len(tabs), 'break')}",
        )
