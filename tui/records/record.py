"""One intervention record: everything about it, its follow-ups (R6) and its audit trail.

From here the teacher edits it (audited), changes Level 1 <-> 2, voids it with a reason, or marks
a follow-up done.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schema.models import ACTION_LABELS, LEVEL_2_ONLY_ACTIONS, Action, FollowUp, Incident
from schema.places import Place, RecordPlace, RecordRef, record_places
from schema.store import IncidentChanges, StoreError
from tui.appref import classlog_of
from tui.formatting import (
    action_words,
    day_and_clock,
    follow_up_words,
    level_words,
    place_words,
)
from tui.records.audit import audit_sentence
from tui.text import literal, one_line

if TYPE_CHECKING:
    from schema.store import DeviceStore
    from tui.app import ClasslogApp


def place_of_incident(store: DeviceStore, incident: Incident) -> RecordPlace:
    ref = RecordRef(incident.id, incident.level, incident.device_id == store.device_id)
    return record_places(store.connection, "incident", [ref])[incident.id]


def place_explanation(place: Place) -> list[str]:
    """What the place means for the teacher, when it is not obvious."""
    if place is Place.DEVICE_ONLY:
        return ["A Level 1 record never leaves this device."]
    if place in (Place.WITHDRAWN, Place.WITHDRAWING):
        return [
            "It reached the district as Level 2 and was changed to Level 1: the district keeps "
            "none of its content, only a note that a record was withdrawn. It stays on this "
            "device."
        ]
    if place is Place.WAITING:
        return ["It is saved here and goes to the district at the next sync."]
    if place in (Place.REFUSED, Place.NOT_SENT, Place.WITHDRAWAL_REFUSED):
        return ["It is kept here; ctrl+l on the home screen lists everything refused."]
    return []


def level_change_words(target: int, place: RecordPlace, dropped: list[Action]) -> str:
    """What changing the level will really do, from where the record is now."""
    if target == 2:
        return "A Level 2 record goes to the district at the next sync, with its follow-ups."
    if place.place is Place.AT_DISTRICT:
        words = (
            "This record has reached the district. As Level 1 it is withdrawn from there at the "
            "next sync (the district keeps only a note that a record was withdrawn, none of its "
            "content) and stays on this device only."
        )
    elif place.may_have_left:
        words = (
            "This record may have reached the district. As Level 1 it is withdrawn from there at "
            "the next sync (the district keeps only a note that a record was withdrawn, none of "
            "its content) and stays on this device only."
        )
    else:
        words = "It has not left this device: as Level 1 it stays on this device only."
    if dropped:
        words += " These Level 2 actions will be taken off it: " + ", ".join(
            ACTION_LABELS[action] for action in dropped
        )
        words += "."
    return words


class RecordScreen(Screen[None]):
    """Shows one record; e edits, l changes its level, v voids it, Enter marks a follow-up done.
    Another device's record (another staff member's) is shown with its author, and those keys are
    not offered: only the device that logged a record changes it."""

    HELP = (
        "e edits the record (every change is kept in the audit trail). l switches it between "
        "Level 1 and Level 2 (Level 1 stays on this device only). v voids it: a reason is "
        "required and the record is kept, marked VOIDED. Enter on an open follow-up marks it "
        "done with an optional note."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="record.edit", tooltip="Change any field (audited)"),
        Binding(
            "l",
            "change_level",
            "Level 1<->2",
            id="record.level",
            tooltip="Switch this record between Level 1 and Level 2",
        ),
        Binding("v", "void", "Void", id="record.void", tooltip="Void with a reason (kept, marked)"),
        Binding(
            "enter",
            "follow_up_done",
            "Follow-up done",
            id="record.follow_up_done",
            priority=True,
            tooltip="Mark the highlighted follow-up done",
        ),
        Binding("escape", "back", "Back", id="record.back"),
    ]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.incident: Incident | None = None
        self.place = RecordPlace(Place.WAITING)
        self.follow_ups: list[FollowUp] = []

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id="record-title", markup=False)
        with VerticalScroll(id="record-body"):
            yield Static(id="record-details", markup=False)
            yield Static(Content.styled("Follow-ups", "bold"), classes="heading")
            yield OptionList(id="record-follow-ups", markup=False)
            yield Static(Content.styled("Audit trail", "bold"), classes="heading")
            yield Static(id="record-audit", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"edit", "change_level", "void", "follow_up_done"}:
            incident = self.incident
            if incident is None:
                return False
            if incident.device_id != self.classlog.store.device_id:
                return False
            if action == "follow_up_done":
                return True
            if incident.voided_at is not None:
                return None
        return True

    # -- showing ----------------------------------------------------------------------------

    def reload(self) -> None:
        store = self.classlog.store
        zone = store.timezone
        incident = self.incident = store.incident(self.incident_id)
        name = self.classlog.student_label(incident.student_id)
        state = "  VOIDED" if incident.voided_at is not None else ""
        self.query_one("#record-title", Static).update(
            Content.assemble(
                ("Record: ", "bold"),
                literal(name, "bold"),
                (f"  {level_words(incident.level)}", "bold"),
                f"  {one_line(incident.behavior_code)}",
                (state, "bold reverse"),
            )
        )
        self.place = place_of_incident(store, incident)
        lines: list[Content] = [
            Content.assemble(("Where: ", "bold"), (place_words(self.place), "bold")),
            *(Content(line) for line in place_explanation(self.place.place)),
        ]
        try:
            entry = store.grid_entry(store.student(incident.student_id), incident.behavior_code)
            lines.append(Content(f"Behavior: {one_line(entry.behavior)}"))
        except StoreError:
            lines.append(Content(f"Behavior: {one_line(incident.behavior_code)}"))
        lines.append(Content(f"When: {day_and_clock(incident.occurred_at, zone)} ({zone})"))
        if incident.staff_id != store.staff_id:
            author = self._staff_name(incident.staff_id) or "unknown"
            lines.append(Content.assemble("Logged by: ", literal(author)))
        lines.append(Content(f"Actions: {action_words(incident.actions)}"))
        if incident.iss_days is not None and not incident.iss_recorded_as_removal:
            length = "full day" if incident.iss_days >= 1 else "half day"
            lines.append(Content(f"In-School Suspension: {length}"))
        if incident.iss_safeguards is not None:
            safeguards = incident.iss_safeguards
            answers = ", ".join(
                f"{label} {'yes' if given else 'no'}"
                for label, given in (
                    ("school work", safeguards.school_work),
                    ("special education services", safeguards.special_education_services),
                    ("peer without a disability", safeguards.peer_without_disability),
                )
            )
            lines.append(Content(f"ISS safeguards: {answers}"))
        if incident.iss_recorded_as_removal:
            lines.append(
                Content(
                    "ISS recorded as a removal from class: the three safeguards for a student "
                    "with an IEP were not all met."
                )
            )
        for label, value in (
            ("Location", incident.location),
            ("Perceived motivation", incident.motivation),
            ("Others involved", incident.others_involved),
        ):
            if value:
                lines.append(Content.assemble(f"{label}: ", literal(one_line(value))))
        if incident.advised_level is not None:
            lines.append(Content(f"Advised at the time: {level_words(incident.advised_level)}"))
        if incident.progression_bypassed:
            lines.append(
                Content.assemble(
                    "Went a level higher before an intervention was on record. Reason: ",
                    literal(incident.bypass_reason or "none given"),
                )
            )
        if incident.note:
            lines.append(Content.assemble("Note: ", literal(incident.note, keep_newlines=True)))
        if incident.voided_at is not None:
            lines.append(
                Content.assemble(
                    (f"VOIDED {day_and_clock(incident.voided_at, zone)}. Reason: ", "bold"),
                    literal(incident.void_reason or ""),
                )
            )
        self.query_one("#record-details", Static).update(Content("\n").join(lines))
        self._show_follow_ups()
        self._show_audit()
        self.refresh_bindings()

    def _show_follow_ups(self) -> None:
        zone = self.classlog.store.timezone
        self.follow_ups = [
            follow_up
            for follow_up in self.classlog.store.follow_ups_for(self.incident_id)
            if follow_up.voided_at is None
        ]
        options = []
        for follow_up in self.follow_ups:
            if follow_up.done_at is None:
                prompt = Content.assemble(
                    ("[ ] ", "bold"), follow_up_words(follow_up.kind), "  (open)"
                )
            else:
                prompt = Content.assemble(
                    ("[x] ", "bold"),
                    follow_up_words(follow_up.kind),
                    f"  done {day_and_clock(follow_up.done_at, zone)}",
                    literal(f": {one_line(follow_up.note)}" if follow_up.note else ""),
                )
            options.append(Option(prompt, id=follow_up.id))
        option_list = self.query_one(OptionList)
        highlighted = option_list.highlighted
        option_list.set_options(options)
        if options:
            option_list.highlighted = min(highlighted or 0, len(options) - 1)

    def _show_audit(self) -> None:
        store = self.classlog.store
        zone = store.timezone
        rows = store.audit_for(self.incident_id)
        follow_up_names = {}
        for follow_up in store.follow_ups_for(self.incident_id):
            follow_up_names[follow_up.id] = follow_up_words(follow_up.kind)
            rows.extend(store.audit_for(follow_up.id))
        rows.sort(key=lambda row: row["id"])
        lines = [
            Content.assemble(
                (f"{day_and_clock(datetime.fromisoformat(row['at']), zone)}  ", "bold"),
                literal(
                    audit_sentence(
                        row,
                        self._staff_name(row["staff_id"]),
                        zone,
                        follow_up_names.get(row["entity_id"]),
                    )
                ),
            )
            for row in rows
        ]
        self.query_one("#record-audit", Static).update(
            Content("\n").join(lines) if lines else Content("(no entries)")
        )

    def _staff_name(self, staff_id: str | None) -> str | None:
        if not staff_id:
            return None
        staff = self.classlog.store.staff_member(staff_id)
        return one_line(staff.display_name) if staff is not None else staff_id

    # -- acting -----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        from tui.records.edit import EditScreen

        if self.incident is not None:
            self.app.push_screen(EditScreen(self.incident))

    @work(exclusive=True, group="record")
    async def action_change_level(self) -> None:
        from tui.records.dialogs import ConfirmScreen

        incident = self.incident
        if incident is None:
            return
        target = 2 if incident.level == 1 else 1
        dropped = [a for a in incident.actions if a in LEVEL_2_ONLY_ACTIONS] if target == 1 else []
        explanation = level_change_words(target, self.place, dropped)
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen(f"Change this record to {level_words(target)}?", explanation)
        )
        if not confirmed:
            return
        changes = IncidentChanges(level=target)
        if dropped:
            changes = IncidentChanges(
                level=target, actions=[a for a in incident.actions if a not in dropped]
            )
        try:
            self.classlog.store.edit_incident(incident.id, changes)
        except StoreError as error:
            self.classlog.report_error(error)
            return
        self.notify(f"Changed to {level_words(target)}.", title="Saved", markup=False)
        self.reload()

    @work(exclusive=True, group="record")
    async def action_void(self) -> None:
        from tui.records.dialogs import ReasonScreen

        if self.incident is None:
            return
        reason = await self.app.push_screen_wait(
            ReasonScreen(
                "Void this record",
                "The record is kept, marked VOIDED with your reason; it no longer counts.",
                "Reason (required), then Enter",
            )
        )
        if reason is None:
            return
        try:
            self.classlog.store.void_incident(self.incident.id, reason)
        except StoreError as error:
            self.classlog.report_error(error)
            return
        self.notify("Record voided.", title="Saved", markup=False)
        self.reload()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_follow_up_done()

    @work(exclusive=True, group="record")
    async def action_follow_up_done(self) -> None:
        from tui.records.dialogs import FollowUpDoneScreen

        option = self.query_one(OptionList).highlighted_option
        follow_up = next((f for f in self.follow_ups if option and f.id == option.id), None)
        if follow_up is None:
            return
        if follow_up.done_at is not None:
            self.notify("That follow-up is already done.", markup=False)
            return
        note = await self.app.push_screen_wait(FollowUpDoneScreen(follow_up_words(follow_up.kind)))
        if note is None:
            return
        try:
            self.classlog.store.complete_follow_up(follow_up.id, note)
        except StoreError as error:
            self.classlog.report_error(error)
            return
        self.notify(f"Done: {follow_up_words(follow_up.kind)}", title="Saved", markup=False)
        self.reload()
