"""One Take a Break: its kind, who started it, its times, whether the student returned ready,
the reflection, where it is (sync) and its history; a break started by mistake is voided here
with a reason. A support, never discipline: nothing here says suspension or removal."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from schema.models import TabEvent
from schema.places import RecordRef, record_places
from schema.store import StoreError
from tui.appref import classlog_of
from tui.formatting import (
    STARTED_BY_WORDS,
    TAB_KIND_SHORT,
    day_and_clock,
    elapsed_mm_ss,
    place_words,
)
from tui.records.audit import audit_sentence
from tui.text import literal, one_line

if TYPE_CHECKING:
    from tui.app import ClasslogApp


class TabRecordScreen(Screen[None]):
    """Shows one Take a Break; v voids it with a reason."""

    HELP = (
        "A Take a Break: its kind, who started it, when it started and ended, whether the "
        "student returned ready, the reflection and where it is. v voids a break started by "
        "mistake (a reason is required; the break is kept, marked VOIDED, and no longer counts)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "v",
            "void",
            "Void",
            id="tab_record.void",
            tooltip="Void this break with a reason (started by mistake): kept, marked VOIDED",
        ),
        Binding("escape", "back", "Back", id="tab_record.back", tooltip="Back to the list"),
    ]

    def __init__(self, tab_id: str) -> None:
        super().__init__()
        self.tab_id = tab_id
        self.tab: TabEvent | None = None

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id="tab-record-title", markup=False)
        with VerticalScroll(id="tab-record-body"):
            yield Static(id="tab-record-details", markup=False)
            yield Static(Content.styled("Audit trail", "bold"), classes="heading")
            yield Static(id="tab-record-audit", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "void":
            tab = self.tab
            if tab is None:
                return False
            if tab.voided_at is not None or tab.device_id != self.classlog.store.device_id:
                return None
        return True

    def reload(self) -> None:
        store = self.classlog.store
        zone = store.timezone
        tab = self.tab = store.tab(self.tab_id)
        name = self.classlog.student_label(tab.student_id)
        voided = "  VOIDED" if tab.voided_at is not None else ""
        self.query_one("#tab-record-title", Static).update(
            Content.assemble(
                ("Take a Break: ", "bold"),
                literal(name, "bold"),
                f"  {TAB_KIND_SHORT[tab.kind]}",
                (voided, "bold reverse"),
            )
        )
        place = record_places(
            store.connection, "tab", [RecordRef(tab.id, None, tab.device_id == store.device_id)]
        )[tab.id]
        lines = [
            Content.assemble(("Where: ", "bold"), (place_words(place), "bold")),
            Content(f"Kind: {TAB_KIND_SHORT[tab.kind]}, {STARTED_BY_WORDS[tab.started_by]}"),
            Content(f"Started: {day_and_clock(tab.started_at, zone)} ({zone})"),
        ]
        if tab.ended_at is None:
            lines.append(
                Content(f"Running for {elapsed_mm_ss(tab.started_at, self.classlog.now())}")
            )
        else:
            minutes = tab.minutes or 0
            lines.append(Content(f"Ended: {day_and_clock(tab.ended_at, zone)} ({minutes:.0f} min)"))
            ready = "yes" if tab.returned_ready else "no"
            lines.append(Content(f"Returned ready: {ready}"))
        if tab.reflection:
            lines.append(
                Content.assemble("Reflection: ", literal(tab.reflection, keep_newlines=True))
            )
        if tab.note:
            lines.append(Content.assemble("Note: ", literal(tab.note, keep_newlines=True)))
        if tab.voided_at is not None:
            lines.append(
                Content.assemble(
                    (f"VOIDED {day_and_clock(tab.voided_at, zone)}. Reason: ", "bold"),
                    literal(tab.void_reason or ""),
                )
            )
        self.query_one("#tab-record-details", Static).update(Content("\n").join(lines))
        audit = []
        for row in store.audit_for(tab.id):
            staff = store.staff_member(row["staff_id"]) if row["staff_id"] else None
            who = one_line(staff.display_name) if staff is not None else row["staff_id"]
            audit.append(
                Content.assemble(
                    (f"{day_and_clock(datetime.fromisoformat(row['at']), zone)}  ", "bold"),
                    literal(audit_sentence(row, who, zone)),
                )
            )
        self.query_one("#tab-record-audit", Static).update(
            Content("\n").join(audit) if audit else Content("(no entries)")
        )
        self.refresh_bindings()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="tab-record")
    async def action_void(self) -> None:
        from tui.records.dialogs import ReasonScreen

        if self.tab is None:
            return
        reason = await self.app.push_screen_wait(
            ReasonScreen(
                "Void this Take a Break",
                "The break is kept, marked VOIDED with your reason; it no longer counts.",
                "Reason (required), then Enter",
            )
        )
        if reason is None:
            return
        try:
            self.classlog.store.void_tab(self.tab.id, reason)
        except StoreError as error:
            self.classlog.report_error(error)
            return
        self.notify("Take a Break voided.", title="Saved", markup=False)
        self.reload()
