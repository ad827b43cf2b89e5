"""A table of interventions and Take a Breaks, shared by today's log and a student's history.

Every cell is a ``rich.text.Text`` built from cleaned plain text, so nothing a person typed is
read as markup. Rows keyed ``incident:<id>`` open the record; Take a Break rows (``tab:<id>``)
are shown as supports, never as discipline (R3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from schema.models import Incident, TabEvent
from schema.places import RecordPlace
from tui.formatting import TAB_KIND_SHORT, level_words, place_words, short_action_words
from tui.text import fit, one_line

WHERE_WIDTH = 44
"""The Where column's widest cell (a refusal's reason is cut; the record shows all of it)."""
INCIDENT_PREFIX = "incident:"
TAB_PREFIX = "tab:"


def _cell(text: str, style: str = "") -> Text:
    return Text(one_line(text), style=style, no_wrap=True, overflow="ellipsis")


def incident_state(incident: Incident) -> str:
    """A flag worth seeing in a list: voided, an ISS recorded as a removal, a bypass."""
    if incident.voided_at is not None:
        return "VOIDED"
    if incident.iss_recorded_as_removal:
        return "as removal"
    if incident.progression_bypassed:
        return "bypass"
    return ""


def tab_state(tab: TabEvent) -> str:
    if tab.voided_at is not None:
        return "voided"
    if tab.ended_at is None:
        return "running"
    return "ready" if tab.returned_ready else "not ready"


def tab_length(tab: TabEvent) -> str:
    minutes = tab.minutes
    return "" if minutes is None else f", {minutes:.0f} min"


class RecordTable(DataTable[Text]):
    """Interventions and breaks, newest first, each saying where it is; Enter opens one."""

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
            tooltip="Open the highlighted record: where it is, details, follow-ups, edit, void, "
            "history of changes",
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

    class TabOpened(Message):
        """Enter on a Take a Break row."""

        def __init__(self, table: RecordTable, tab_id: str) -> None:
            super().__init__()
            self.table = table
            self.tab_id = tab_id

        @property
        def control(self) -> RecordTable:
            return self.table

    def __init__(
        self,
        *,
        when: Callable[[datetime, tzinfo], str],
        show_student: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._when = when
        self._show_student = show_student

    def on_mount(self) -> None:
        self.add_column("When", key="when")
        if self._show_student:
            self.add_column("Student", width=16, key="student")
        self.add_column("Behavior", width=12, key="behavior")
        self.add_column("Level", width=7, key="level")
        self.add_column("Where", key="where")
        self.add_column("Actions", key="actions")

    def show_records(
        self,
        incidents: Sequence[Incident],
        tabs: Sequence[TabEvent],
        names: Callable[[str], str],
        zone: tzinfo,
        places: Mapping[str, RecordPlace],
    ) -> None:
        """Replace the rows, keeping the cursor on the same record when it is still there.
        ``places`` says where each record is (by id)."""
        current = self._current_key()
        self.clear()
        rows: list[tuple[datetime, str, list[Text]]] = []
        for incident in incidents:
            voided = incident.voided_at is not None
            style = "strike" if voided else ""
            actions = short_action_words(incident.actions)
            flag = incident_state(incident)
            if flag and not voided:
                actions = f"{flag}; {actions}"
            rows.append(
                (
                    incident.occurred_at,
                    INCIDENT_PREFIX + incident.id,
                    [
                        _cell(self._when(incident.occurred_at, zone), style),
                        *([_cell(names(incident.student_id), style)] if self._show_student else []),
                        _cell(incident.behavior_code, style),
                        _cell(level_words(incident.level), "bold" if not voided else style),
                        _cell(self._where(incident.id, places, voided), "bold" if voided else ""),
                        _cell(actions, style),
                    ],
                )
            )
        for tab in tabs:
            voided = tab.voided_at is not None
            style = "strike" if voided else ""
            rows.append(
                (
                    tab.started_at,
                    TAB_PREFIX + tab.id,
                    [
                        _cell(self._when(tab.started_at, zone), style),
                        *([_cell(names(tab.student_id), style)] if self._show_student else []),
                        _cell("Take a Break", style),
                        _cell("support", style),
                        _cell(self._where(tab.id, places, voided), "bold" if voided else ""),
                        _cell(f"{TAB_KIND_SHORT[tab.kind]}{tab_length(tab)}, {tab_state(tab)}"),
                    ],
                )
            )
        rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
        for _, key, cells in rows:
            self.add_row(*cells, key=key)
        if current is not None:
            try:
                self.move_cursor(row=self.get_row_index(current))
            except RowDoesNotExist:
                self.move_cursor(row=0)

    @staticmethod
    def _where(record_id: str, places: Mapping[str, RecordPlace], voided: bool) -> str:
        place = places.get(record_id)
        words = place_words(place) if place is not None else ""
        words = f"VOIDED \N{MIDDLE DOT} {words}" if voided else words
        return fit(words, WHERE_WIDTH).rstrip() if len(words) > WHERE_WIDTH else words

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
        elif key.startswith(TAB_PREFIX):
            self.post_message(self.TabOpened(self, key.removeprefix(TAB_PREFIX)))
