"""Edit a saved record: level, actions, time, location, motivation, others involved, note.

Only the fields that changed are sent (``IncidentChanges``); the store keeps the old values in
the audit trail. Level 2-only actions are unticked and disabled while the level is 1.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from schema.models import (
    ACTION_LABELS,
    LEVEL_2_ONLY_ACTIONS,
    LOCATIONS,
    MOTIVATIONS,
    OTHERS_INVOLVED,
    Action,
    Incident,
    IssSafeguards,
)
from schema.store import IncidentChanges, StoreError
from tui.appref import classlog_of
from tui.formatting import level_words
from tui.log.details import TimeError, parse_time
from tui.text import clean, literal, one_line
from tui.widgets.check_list import CheckList

if TYPE_CHECKING:
    from tui.app import ClasslogApp

EDIT_TIME_FORMAT = "%Y-%m-%d %H:%M"
MAX_NOTE_LENGTH = 4000


def _select(options: tuple[str, ...], value: str | None, select_id: str) -> Select[str]:
    shown = list(options)
    if value and value not in shown:
        shown.append(value)
    return Select(
        [(clean(option), option) for option in shown],
        prompt="(not given)",
        value=value if value else Select.NULL,
        id=select_id,
        compact=True,
    )


class EditScreen(Screen[None]):
    """A form over one record; ctrl+s saves the changes (audited)."""

    HELP = (
        "Tab moves between fields; Space ticks an action. Level 2-only actions need Level 2. "
        "ctrl+s saves only what you changed (the old values stay in the audit trail); Esc "
        "leaves without saving."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "save",
            "Save changes",
            id="edit.save",
            priority=True,
            tooltip="Save the changed fields (audited)",
        ),
        Binding("escape", "back", "Back", id="edit.back", tooltip="Leave without saving"),
    ]

    def __init__(self, incident: Incident) -> None:
        super().__init__()
        self.incident = incident

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def _allowed_levels(self) -> tuple[int, ...]:
        store = self.classlog.store
        try:
            entry = store.grid_entry(
                store.student(self.incident.student_id), self.incident.behavior_code
            )
        except StoreError:
            return (self.incident.level,)
        return entry.staff_levels or (self.incident.level,)

    def compose(self) -> ComposeResult:
        incident = self.incident
        zone = self.classlog.store.timezone
        yield Static(
            Content.assemble(
                ("Edit record: ", "bold"),
                literal(self.classlog.student_label(incident.student_id), "bold"),
                f"  {one_line(incident.behavior_code)}",
            ),
            id="edit-title",
            markup=False,
        )
        with VerticalScroll(id="edit-form"):
            yield Label("Level")
            yield Select(
                [(level_words(level), level) for level in self._allowed_levels()],
                value=incident.level,
                allow_blank=False,
                id="edit-level",
                compact=True,
            )
            yield Label("Actions taken (Space ticks)")
            yield CheckList(
                [(ACTION_LABELS[action], action) for action in Action],
                incident.actions,
                id="edit-actions",
            )
            yield Label("Time (YYYY-MM-DD HH:MM)")
            yield Input(
                incident.occurred_at.astimezone(zone).strftime(EDIT_TIME_FORMAT),
                id="edit-time",
                compact=True,
            )
            yield Label("Location")
            yield _select(LOCATIONS, incident.location, "edit-location")
            yield Label("Perceived motivation")
            yield _select(MOTIVATIONS, incident.motivation, "edit-motivation")
            yield Label("Others involved")
            yield _select(OTHERS_INVOLVED, incident.others_involved, "edit-others")
            yield Label("Note")
            yield TextArea(incident.note, id="edit-note", soft_wrap=True)
            yield Static(id="edit-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._apply_level(self.incident.level, announce=False)
        self.query_one("#edit-level", Select).focus()

    @on(Select.Changed, "#edit-level")
    def _level_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self._apply_level(event.value, announce=True)

    def _apply_level(self, level: int, *, announce: bool) -> None:
        actions = self.query_one("#edit-actions", CheckList)
        unavailable: dict[Hashable, str] = (
            dict.fromkeys(LEVEL_2_ONLY_ACTIONS, "Level 2 only") if level == 1 else {}
        )
        dropped = actions.set_unavailable(unavailable)
        if dropped and announce:
            names = ", ".join(ACTION_LABELS[Action(str(value))] for value in dropped)
            self.notify(f"Unticked (Level 2 only): {names}", markup=False)

    def _value(self, select_id: str) -> Any:
        value = self.query_one(select_id, Select).value
        return None if value is Select.NULL else value

    def _error(self, text: str) -> None:
        self.query_one("#edit-error", Static).update(Content.styled(text, "bold"))

    @work(exclusive=True, group="edit")
    async def action_save(self) -> None:
        from tui.log.dialogs import SafeguardsScreen

        incident = self.incident
        store = self.classlog.store
        changes: dict[str, Any] = {}
        level = self._value("#edit-level")
        if level != incident.level:
            changes["level"] = level
        checked = self.query_one("#edit-actions", CheckList).checked
        actions = [action for action in Action if action in checked]
        if actions != incident.actions:
            changes["actions"] = actions
        time_text = self.query_one("#edit-time", Input).value.strip()
        if time_text != incident.occurred_at.astimezone(store.timezone).strftime(EDIT_TIME_FORMAT):
            try:
                changes["occurred_at"] = parse_time(time_text, self.classlog.now(), store.timezone)
            except TimeError as error:
                self._error(str(error))
                return
        for name, select_id in (
            ("location", "#edit-location"),
            ("motivation", "#edit-motivation"),
            ("others_involved", "#edit-others"),
        ):
            value = self._value(select_id)
            if value != getattr(incident, name):
                changes[name] = value
        note = self.query_one("#edit-note", TextArea).text.strip()
        if len(note) > MAX_NOTE_LENGTH:
            self._error(f"The note is longer than {MAX_NOTE_LENGTH} characters.")
            return
        if note != incident.note:
            changes["note"] = note
        if not changes:
            self.notify("Nothing changed.", markup=False)
            return
        student = store.student(incident.student_id)
        adds_iss = Action.ISS in actions and Action.ISS not in incident.actions
        if adds_iss and student.iep:
            safeguards: IssSafeguards | None = await self.app.push_screen_wait(
                SafeguardsScreen(student)
            )
            if safeguards is None:
                return
            changes["iss_safeguards"] = safeguards
        try:
            store.edit_incident(incident.id, IncidentChanges(**changes))
        except StoreError as error:
            self._error(str(error))
            self.classlog.report_error(error)
            return
        self.notify("Changes saved (kept in the audit trail).", title="Saved", markup=False)
        self.dismiss(None)

    def action_back(self) -> None:
        self.dismiss(None)
