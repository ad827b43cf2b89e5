"""A table of interventions and Take a Breaks, shared by today's log and a student's history.

Every cell is a ``rich.text.Text`` built from cleaned plain text, so nothing a person typed is
read as markup. Rows keyed ``incident:<id>`` open the record; Take a Break rows (``tab:<id>``)
are shown as supports, never as discipline (R3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from schema.models import Incident, TabEvent
from tui.formatting import TAB_KIND_SHORT, level_words, short_action_words
from tui.text import one_line

INCIDENT_PREFIX = "incident:"
TAB_PREFIX = "tab:"


def _cell(text: str, style: str = "") -> Text:
    return Text(one_line(text), style=style, no_wrap=True, overflow="ellipsis")


def incident_state(incident: Incident) -> str:
    if incident.voided_at is not None:
        return "VOIDED"
    if incident.iss_recorded_as_removal:
        return "as removal"
    if incident.progression_bypassed:
        return "bypass"
    return ""


def tab_state(tab: TabEvent) -> str:
    if tab.voided_at is not None:
        return "VOIDED"
    if tab.ended_at is None:
        return "running"
    return "ready" if tab.returned_ready else "not ready"


def tab_length(tab: TabEvent) -> str:
    minutes = tab.minutes
    return "" if minutes is None else f", {minutes:.0f} min"


class RecordTable(DataTable[Text]):
    """Interventions and breaks, newest first; Enter opens an intervention."""

    DEFAULT_CSS = """
    RecordTable {
        height: 1fr;
    }
    RecordTable:nocolor > .datatable--cursor {
        text-style: reverse bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Open",
            id="records.open",
            tooltip="Open the highlighted record: details, follow-ups, edit, void, audit trail",
        ),
    ]

    class Opened(Message):
        """Enter on an intervention row."""

        def __init__(self, table: RecordTable, incident_id: str) -> None:
            super().__init__()
            self.table = table
            self.incident_id = incident_id

        @property
        def control(self) -> RecordTable:
            return self.table

    def __init__(self, *, when: Callable[[datetime, tzinfo], str], id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._when = when

    def on_mount(self) -> None:
        self.add_column("When", key="when")
        self.add_column("Student", width=18, key="student")
        self.add_column("Behavior", width=12, key="behavior")
        self.add_column("Level", width=7, key="level")
        self.add_column("Actions", width=15, key="actions")
        self.add_column("State", width=10, key="state")

    def show_records(
        self,
        incidents: Sequence[Incident],
        tabs: Sequence[TabEvent],
        names: Callable[[str], str],
        zone: tzinfo,
    ) -> None:
        """Replace the rows, keeping the cursor on the same record when it is still there."""
        current = self._current_key()
        self.clear()
        rows: list[tuple[datetime, str, list[Text]]] = []
        for incident in incidents:
            voided = incident.voided_at is not None
            style = "strike" if voided else ""
            rows.append(
                (
                    incident.occurred_at,
                    INCIDENT_PREFIX + incident.id,
                    [
                        _cell(self._when(incident.occurred_at, zone), style),
                        _cell(names(incident.student_id), style),
                        _cell(incident.behavior_code, style),
                        _cell(level_words(incident.level), "bold" if not voided else style),
                        _cell(short_action_words(incident.actions), style),
                        _cell(incident_state(incident), "bold"),
                    ],
                )
            )
        rows.extend(
            (
                tab.started_at,
                TAB_PREFIX + tab.id,
                [
                    _cell(self._when(tab.started_at, zone)),
                    _cell(names(tab.student_id)),
                    _cell("Take a Break"),
                    _cell("support"),
                    _cell(f"{TAB_KIND_SHORT[tab.kind]}{tab_length(tab)}"),
                    _cell(tab_state(tab), "bold"),
                ],
            )
            for tab in tabs
        )
        rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
        for _, key, cells in rows:
            self.add_row(*cells, key=key)
        if current is not None:
            try:
                self.move_cursor(row=self.get_row_index(current))
            except RowDoesNotExist:
                self.move_cursor(row=0)

    def _current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if key.startswith(INCIDENT_PREFIX):
            self.post_message(self.Opened(self, key.removeprefix(INCIDENT_PREFIX)))
        else:
            self.notify(
                "A Take a Break is a support, not an intervention record: end it from home "
                "(ctrl+e).",
                markup=False,
            )
