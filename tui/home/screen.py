"""Home: the current section's students, running Take a Breaks, follow-ups and sync state.

Typing letters filters the students at once (Esc clears); Enter logs for the marked students or
the highlighted one; 1, 2 or 3 starts a Take a Break of that kind for the highlighted student.
Everything else is on a ctrl key, in the footer and in the command palette.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from schema.errors import UserError
from schema.rows import RunningTab, SectionRow, StudentRow
from schema.vocabulary import Action, TabKind
from tui.appref import classlog_of
from tui.formatting import STARTED_BY_WORDS, TAB_KIND_SHORT, student_name
from tui.home.running_tabs import RunningTabs
from tui.home.student_list import StudentList, header_line
from tui.home.support_line import SupportLine
from tui.home.sync_status import (
    ENROLL_HINT,
    START_HINT,
    DaemonState,
    DrainProgress,
    SyncStatusLine,
    daemon_state,
    draining_progress,
)
from tui.support.poll import ACTIVE_STATES, own_request
from tui.text import literal, one_line

if TYPE_CHECKING:
    from schema.models import TabEvent
    from schema.support import SupportRequest
    from tui.app import ClasslogApp
    from tui.log.draft import LogResult
    from tui.support.call import SupportCall
    from tui.tabs.dialogs import TabStart, TabStop

FILTER_CHARACTERS = frozenset("'\N{RIGHT SINGLE QUOTATION MARK} -.")
"""Typed after a first letter, these are part of a name (Space included: "naomi d")."""
KIND_BY_NUMBER = {1: TabKind.SPOT, 2: TabKind.OUT, 3: TabKind.OUT_AND_BACK}
SYNC_POLL_SECONDS = 2.0
SUPPORT_POLL_SECONDS = 0.25
"""The support line reads the requests when the database changed (one pragma otherwise) and
redraws its words, which change with time alone ("sending…" turns to "not sent" after 5 s)."""


class HomeScreen(Screen[None]):
    """The first screen of a teaching day."""

    HELP = (
        "Type a student's name, spaces included, to find them (Esc clears). Enter logs an "
        "intervention for the highlighted student; + marks several students, and Enter then logs "
        "for the marked ones and the one you typed. 1, 2 or 3 starts a Take a "
        "Break (in-class spot, TAB Out, TAB Out and Back) for the highlighted student; then Enter "
        "if you started it, s if the student asked. Press the same digit again on a student who "
        "is on a break to stop it. The line at the bottom is sync: ctrl+s syncs now, ctrl+l "
        "lists what the server refused."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "1",
            "take_a_break(1)",
            "Break",
            id="home.tab_spot",
            key_display="1/2/3",
            tooltip="Take a Break for the highlighted student: 1 in-class spot, 2 TAB Out, "
            "3 TAB Out and Back (on a student who is on a break: end that student's break)",
        ),
        Binding(
            "2",
            "take_a_break(2)",
            "TAB Out",
            id="home.tab_out",
            show=False,
            tooltip="TAB Out to the buddy room, for the highlighted student",
        ),
        Binding(
            "3",
            "take_a_break(3)",
            "TAB Out and Back",
            id="home.tab_out_and_back",
            show=False,
            tooltip="TAB Out and Back with a reflection, for the highlighted student",
        ),
        Binding(
            "ctrl+e",
            "stop_tab",
            "End break",
            id="home.stop_tab",
            tooltip="End a running Take a Break (asks whether the student returned ready)",
        ),
        Binding(
            "ctrl+d",
            "today",
            "Today",
            id="home.today",
            tooltip="Today's log: open, edit or void a record",
        ),
        Binding(
            "ctrl+f",
            "follow_ups",
            "Follow-ups",
            id="home.follow_ups",
            tooltip="Open follow-ups: family contact, feedback, due process, repair plan",
        ),
        Binding(
            "ctrl+o",
            "history",
            "History",
            id="home.history",
            tooltip="The highlighted student's records for this school year",
        ),
        Binding(
            "ctrl+g",
            "pick_section",
            "Section",
            id="home.section",
            show=False,
            tooltip="Switch to another section (class period), or all students",
        ),
        Binding(
            "ctrl+t",
            "take_a_break(0)",
            "Take a Break...",
            id="home.tab_choose",
            show=False,
            tooltip="Take a Break for the highlighted student, choosing the kind",
        ),
        Binding(
            "ctrl+s",
            "sync_now",
            "Sync now",
            id="home.sync_now",
            show=False,
            tooltip="Ask the sync daemon to sync this device with the server now",
        ),
        Binding(
            "ctrl+l",
            "dead_letters",
            "Refused",
            id="home.dead_letters",
            show=False,
            tooltip="What the district refused for good, and why",
        ),
        Binding(
            "ctrl+r",
            "call_support",
            "Call support",
            id="home.call_support",
            show=False,
            tooltip="Call mobile response staff to this room (the line above sync follows it)",
        ),
        Binding(
            "ctrl+x",
            "cancel_support",
            "Cancel call",
            id="home.cancel_support",
            show=False,
            tooltip="Cancel your call for support (asks first)",
        ),
        Binding(
            "escape",
            "clear",
            "Clear",
            id="home.clear",
            show=False,
            tooltip="Clear what you typed; press again to unmark students",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[SectionRow] = []
        self.section: SectionRow | None = None
        self.students: list[StudentRow] = []
        self.filter_text = ""
        self.running: list[RunningTab] = []
        self.open_follow_up_count = 0
        self.last_saved: Content | None = None
        self._loaded = False
        self._break_records: dict[str, str] = {}
        """Records just saved with the Take a Break action, by student: a break started next
        for that student is linked to its record (the store keeps a Level 1 link on the device)."""
        self._drain: DrainProgress | None = None
        """The backlog's progress bar, mounted when a drain is first seen."""
        self._support_active = False
        """This device's latest call for support is open or accepted (ctrl+x is offered)."""
        self._support_watch: bool | None = None
        """Whether the support line polls: unknown until the store has loaded, then only once
        this device has a call (a teacher who never calls costs no query while typing)."""
        self._records_may_have_changed = False
        """Set when a screen that can edit records is opened; the follow-ups are recounted on
        return (a dialog closing does not need it)."""

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        # The lines above and below the list are grouped: Textual repaints every widget whose
        # container overlaps what changed, so a key that changes only the list (an arrow)
        # leaves the lines in the two groups alone.
        with Vertical(id="home-top", classes="home-lines"):
            yield Static(id="home-title", markup=False)
            yield Static(id="home-find", markup=False)
            yield Static(header_line(), id="home-columns", markup=False)
        yield StudentList(id="home-students")
        with Vertical(id="home-bottom", classes="home-lines"):
            yield RunningTabs(id="home-tabs")
            yield Static(id="home-status", markup=False)
            yield Static(id="home-saved", markup=False)
            yield SupportLine(id="home-support")
            yield SyncStatusLine(id="home-sync")
            yield Footer(compact=True, show_command_palette=False)

    @property
    def student_list(self) -> StudentList:
        return self.query_one(StudentList)

    def on_mount(self) -> None:
        self.sections, self.section = self.first_section()
        self._load_section()
        self.refresh_day()
        self._poll_sync()
        self.set_interval(1.0, self.refresh_timers)
        self.set_interval(SYNC_POLL_SECONDS, self._poll_sync)
        self._poll_support()
        self.set_interval(SUPPORT_POLL_SECONDS, self._poll_support)
        self._loaded = True
        self.student_list.focus()

    def first_section(self) -> tuple[list[SectionRow], SectionRow | None]:
        """The teacher's sections, and the one home opens on: the one in session now."""
        reader = self.classlog.reader
        sections = reader.sections_for(reader.staff_id)
        return sections, reader.section_now(sections) or (sections[0] if sections else None)

    def on_screen_resume(self) -> None:
        if self._loaded:
            self.refresh_day(count_follow_ups=self._records_may_have_changed)
            self._records_may_have_changed = False
            self.student_list.focus()

    # -- what is shown ----------------------------------------------------------------------

    def _load_section(self) -> None:
        reader = self.classlog.reader
        if self.section is None:
            self.students = list(self.classlog.directory.values())
        else:
            self.students = reader.students_in_section(self.section.sourced_id)
        self.filter_text = ""
        self.student_list.clear_marks()
        self.student_list.filter_text = ""
        self.student_list.set_students(self.students, reader.counts_for_day(), self._on_break())
        self._show_title()
        self._show_find()

    def refresh_day(self, *, count_follow_ups: bool = True) -> None:
        """Re-read today's counts and running breaks (two small queries), and the number of open
        follow-ups (one COUNT) unless nothing could have changed it."""
        reader = self.classlog.reader
        self.running = reader.running_tabs()
        self.student_list.set_day(reader.counts_for_day(), self._on_break())
        names = {
            tab.student_id: self.classlog.student_label(tab.student_id) for tab in self.running
        }
        self.query_one(RunningTabs).show_tabs(self.running, names, self.classlog.now())
        if count_follow_ups:
            self.open_follow_up_count = reader.open_follow_up_count()
        self._show_status()

    def _on_break(self) -> set[str]:
        return {tab.student_id for tab in self.running}

    def _show_title(self) -> None:
        reader = self.classlog.reader
        staff = reader.staff_member(reader.staff_id or "")
        who = staff.display_name if staff is not None else "no staff member set"
        if self.section is None:
            where = "All students"
        else:
            periods = (
                f"Period {self.section.periods} \N{MIDDLE DOT} " if self.section.periods else ""
            )
            where = periods + self.section.title
        today = self.classlog.now().astimezone(reader.timezone).strftime("%a %b %d")
        dot = " \N{MIDDLE DOT} "
        self.query_one("#home-title", Static).update(
            Content.assemble(
                ("classlog", "bold"),
                dot,
                literal(one_line(where), "bold"),
                f" ({len(self.students)}){dot}",
                literal(one_line(who)),
                f"{dot}{today}",
            ),
            layout=False,
        )

    def _show_find(self) -> None:
        student_list = self.student_list
        to_log = student_list.to_log()
        marked = bool(student_list.marked)
        if to_log and (marked or self.filter_text):
            names = ", ".join(student_name(student) for student in to_log)
            count = f" {len(to_log)}" if len(to_log) > 1 else ""
            target = Content.assemble(
                f"  \N{MIDDLE DOT}  Enter logs for{count}: ", literal(names, "bold")
            )
        else:
            target = Content("")
        if self.filter_text:
            line = Content.assemble(
                ("Find: ", "bold"),
                literal(self.filter_text, "bold underline"),
                f"\N{LEFT ONE EIGHTH BLOCK}  {student_list.shown_count} of {len(self.students)}",
                target,
            )
        elif marked:
            line = Content.assemble(("Find: ", "bold"), "the next name?", target)
        else:
            line = Content.assemble(
                ("Find: ", "bold"),
                "type a name \N{MIDDLE DOT} Enter logs \N{MIDDLE DOT} + marks several",
            )
        self.query_one("#home-find", Static).update(line, layout=False)

    def _show_status(self) -> None:
        running = len(self.running)
        self.query_one("#home-status", Static).update(
            f"Follow-ups open: {self.open_follow_up_count} (ctrl+f)  \N{MIDDLE DOT}  "
            f"{running} {'break' if running == 1 else 'breaks'} running{self.status_hint}",
            layout=False,
        )
        saved = self.query_one("#home-saved", Static)
        saved.display = self.last_saved is not None
        if self.last_saved is not None:
            saved.update(self.last_saved)

    status_hint = "  \N{MIDDLE DOT}  ctrl+r calls support"
    """Said after the counts: the key a teacher may need in a hurry and the footer has no room
    for."""

    def refresh_timers(self) -> None:
        """Redraw the running Take a Break timers (every second)."""
        self.query_one(RunningTabs).tick(self.classlog.now())

    def _poll_sync(self) -> None:
        """Two small reads of the daemon's table; the line is repainted only when its words
        change, and the screen laid out again only when its height or the drain bar's
        visibility does."""
        reader = self.classlog.reader
        status = reader.sync_status()
        daemon = daemon_state(status, reader.daemon_pid())
        self.query_one(SyncStatusLine).show_status(
            status, self.classlog.now(), reader.timezone, daemon
        )
        self._show_drain(draining_progress(status))

    def _show_drain(self, progress: tuple[int, int] | None) -> None:
        drain = self._drain
        if progress is None:
            if drain is not None and drain.display:
                drain.display = False
            return
        if drain is None:
            self._drain = DrainProgress(*progress, id="home-drain")
            sync_line = self.query_one(SyncStatusLine)
            lines = sync_line.parent
            (lines if isinstance(lines, Widget) else self).mount(self._drain, after=sync_line)
            return
        if not drain.display:
            drain.display = True
        drain.show_progress(*progress)

    # -- typing to filter -------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        if isinstance(self.focused, Input):
            return
        character = event.character
        if (
            character
            and len(character) == 1
            and (character.isalpha() or (character in FILTER_CHARACTERS and self.filter_text))
            and not (character == " " and self.filter_text.endswith(" "))
        ):
            self._set_filter(self.filter_text + character)
        elif event.key == "backspace" and self.filter_text:
            self._set_filter(self.filter_text[:-1])
        else:
            return
        event.stop()
        event.prevent_default()

    def _set_filter(self, text: str) -> None:
        self.filter_text = text
        self.student_list.set_filter(text)
        if self.focused is not self.student_list:
            self.student_list.focus()
        self._show_find()

    def action_clear(self) -> None:
        if self.filter_text:
            self._set_filter("")
        else:
            self.student_list.clear_marks()

    @on(StudentList.Moved)
    def _moved(self) -> None:
        self._show_find()

    @on(StudentList.MarksChanged)
    def _marks_changed(self, event: StudentList.MarksChanged) -> None:
        if self.filter_text and event.marked:
            self._set_filter("")
        self._show_find()

    # -- logging ----------------------------------------------------------------------------

    @on(StudentList.NothingPicked)
    def _nothing_picked(self) -> None:
        self.notify("No student matches what you typed: Esc clears it.", markup=False)

    @on(StudentList.Picked)
    def _log_for(self, event: StudentList.Picked) -> None:
        self.log_students(event.students)

    def log_students(self, students: list[StudentRow]) -> None:
        """Open the log flow for ``students``."""
        from tui.log.behavior import BehaviorPickerScreen

        self.app.push_screen(BehaviorPickerScreen(students), self._logged)

    def _logged(self, result: LogResult | None) -> None:
        if result is None:
            return
        self.last_saved = self._saved_line(result.summary)
        self.student_list.clear_marks()
        self._set_filter("")
        self.refresh_day()
        self.student_list.highlight_student(result.incidents[-1].student_id)
        self._break_records = {
            incident.student_id: incident.id
            for incident in result.incidents
            if Action.TAKE_A_BREAK in incident.actions
        }
        message = result.summary.plain
        if self._break_records:
            message += ". Take a Break ticked: press 1, 2 or 3 to start its timer."
        self.notify(message, title="Saved", markup=False)

    def _saved_line(self, summary: Content) -> Content:
        at = self.classlog.now().astimezone(self.classlog.reader.timezone).strftime("%H:%M")
        return Content.assemble((f"\N{CHECK MARK} Saved {at}: ", "bold"), summary)

    # -- Take a Break -----------------------------------------------------------------------

    def _highlighted(self) -> StudentRow | None:
        student = self.student_list.highlighted_student
        if student is None:
            self.notify("No student is highlighted: type part of a name first.", markup=False)
        return student

    def action_take_a_break(self, number: int) -> None:
        student = self._highlighted()
        if student is None:
            return
        self.running = self.classlog.store.running_tabs()
        running = next((tab for tab in self.running if tab.student_id == student.sourced_id), None)
        if running is not None:
            self._ask_stop(running)
            return
        from tui.tabs.dialogs import TabStartScreen

        kind = KIND_BY_NUMBER.get(number)
        self.app.push_screen(
            TabStartScreen(student, kind),
            lambda choice: self._start_tab(student, choice),
        )

    def _start_tab(self, student: StudentRow, choice: TabStart | None) -> None:
        self.start_tab(student, choice)

    def start_tab(self, student: StudentRow, choice: TabStart | None) -> TabEvent | None:
        """Start the break the dialog chose (None: it was cancelled); the break, once saved."""
        if choice is None:
            return None
        try:
            tab = self.classlog.store.start_tab(
                student.sourced_id,
                choice.kind,
                choice.started_by,
                incident_id=self._break_records.pop(student.sourced_id, None),
            )
        except UserError as error:
            self.classlog.report_error(error)
            return None
        words = (
            f"Take a Break started: {student_name(student)}, {TAB_KIND_SHORT[tab.kind]}, "
            f"{STARTED_BY_WORDS[tab.started_by]}"
        )
        self.last_saved = self._saved_line(Content(words))
        self._set_filter("")
        self.refresh_day()
        self.student_list.highlight_student(student.sourced_id)
        self.notify(words, title="Saved", markup=False)
        return tab

    def action_stop_tab(self) -> None:
        self.running = self.classlog.reader.running_tabs()
        if not self.running:
            self.notify("No Take a Break is running.", markup=False)
            return
        student = self.student_list.highlighted_student
        own = [tab for tab in self.running if student and tab.student_id == student.sourced_id]
        if own:
            self._ask_stop(own[0])
        elif len(self.running) == 1:
            self._ask_stop(self.running[0])
        else:
            from tui.tabs.dialogs import RunningTabPickerScreen

            names = {
                tab.student_id: self.classlog.student_label(tab.student_id) for tab in self.running
            }
            self.app.push_screen(
                RunningTabPickerScreen(self.running, names),
                lambda tab: self._ask_stop(tab) if tab is not None else None,
            )

    def _ask_stop(self, tab: RunningTab) -> None:
        from tui.tabs.dialogs import TabStopScreen

        name = self.classlog.student_label(tab.student_id)
        self.app.push_screen(
            TabStopScreen(tab, name), lambda answer: self._stop_tab(tab, name, answer)
        )

    def _stop_tab(self, tab: RunningTab, name: str, answer: TabStop | None) -> None:
        if answer is None:
            return
        if answer.void:
            from tui.records.dialogs import ReasonScreen

            self.app.push_screen(
                ReasonScreen(
                    f"Void the Take a Break of {name}",
                    "The break is kept, marked VOIDED with your reason; it no longer counts.",
                    "Reason (required), then Enter",
                ),
                lambda reason: self._void_tab(tab, name, reason),
            )
            return
        try:
            self.classlog.store.stop_tab(tab.id, answer.returned_ready, answer.reflection)
        except UserError as error:
            self.classlog.report_error(error)
            return
        ready = "returned ready" if answer.returned_ready else "not ready on return"
        words = f"Take a Break ended: {name}, {ready}"
        self.last_saved = self._saved_line(Content(words))
        self._set_filter("")
        self.refresh_day()
        self.student_list.highlight_student(tab.student_id)
        self.notify(words, title="Saved", markup=False)

    def _void_tab(self, tab: RunningTab, name: str, reason: str | None) -> None:
        if reason is None:
            return
        try:
            self.classlog.store.void_tab(tab.id, reason)
        except UserError as error:
            self.classlog.report_error(error)
            return
        words = f"Take a Break voided: {name}"
        self.last_saved = self._saved_line(Content(words))
        self._set_filter("")
        self.refresh_day()
        self.student_list.highlight_student(tab.student_id)
        self.notify(words, title="Saved", markup=False)

    # -- support requests (R9) --------------------------------------------------------------

    def _poll_support(self) -> None:
        """The teacher's line: this device's latest call, in words that are true now. Skipped
        until the store has loaded in the background (start-up stays light)."""
        classlog = self.classlog
        if not classlog.store_loaded or self._support_watch is False:
            return
        requests = classlog.support_poll.requests(classlog.store)
        if self._support_watch is None:
            self._support_watch = bool(requests)
            if not requests:
                return
        request = own_request(requests, classlog.reader.meta("device_id"))
        now = classlog.now().astimezone(classlog.reader.timezone)
        self.query_one(SupportLine).show_request(
            request, now, unsendable=request is not None and self._cannot_send(request)
        )
        if (request is not None and request.state in ACTIVE_STATES) != self._support_active:
            self._support_active = not self._support_active
            self.refresh_bindings()

    def _cannot_send(self, request: SupportRequest) -> bool:
        """An unconfirmed call with no way out now: no daemon running, or the daemon offline.
        The teacher is told at once instead of after the 5 s any call gets (two small reads,
        only while a call waits for the server)."""
        if request.confirmed:
            return False
        reader = self.classlog.reader
        status = reader.sync_status()
        running = daemon_state(status, reader.daemon_pid()) is DaemonState.RUNNING
        return not (running and status.online)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_support":
            return self._support_active
        return True

    def action_call_support(self) -> None:
        from tui.support.call import CallSupportScreen

        student = self.student_list.highlighted_student
        self.app.push_screen(CallSupportScreen(student, self._room()), self._call_support)

    def _room(self) -> str:
        """The room as home names it: the section's title (its period first), or the school."""
        if self.section is None:
            return "All students"
        return self.section.title

    def _call_support(self, call: SupportCall | None) -> None:
        if call is None:
            return
        from schema.support import send_request

        try:
            send_request(
                self.classlog.store,
                student_ids=(call.student.sourced_id,) if call.student is not None else (),
                urgency=call.urgency,
                note=call.note,
                section_id=self.section.sourced_id if self.section is not None else None,
                room=self._room(),
            )
        except UserError as error:
            self.classlog.report_error(error)
            return
        self._support_watch = True
        self.classlog.support_poll.invalidate()
        self._poll_support()

    def action_cancel_support(self) -> None:
        requests = self.classlog.support_poll.requests(self.classlog.store)
        request = own_request(requests, self.classlog.reader.meta("device_id"))
        if request is None or request.state not in ACTIVE_STATES:
            self.notify("No call for support is open.", markup=False)
            return
        from tui.records.dialogs import ConfirmScreen

        self.app.push_screen(
            ConfirmScreen(
                "Cancel your call for support?",
                "The responders are told it is cancelled. Call again with ctrl+r if needed.",
            ),
            lambda yes: self._cancel_support(request.id) if yes else None,
        )

    def _cancel_support(self, request_id: str) -> None:
        from schema.support import cancel_request

        try:
            cancel_request(self.classlog.store, request_id)
        except UserError as error:
            self.classlog.report_error(error)
        self.classlog.support_poll.invalidate()
        self._poll_support()

    # -- sync -------------------------------------------------------------------------------

    def action_sync_now(self) -> None:
        """SIGUSR1 to the daemon ends its wait: it pushes and pulls at once. Refused, with the
        reason and the command that fixes it, when no daemon could receive it."""
        reader = self.classlog.reader
        status = reader.sync_status()
        pid = reader.daemon_pid()
        state = daemon_state(status, pid)
        if state is DaemonState.RUNNING and pid is not None:
            try:
                os.kill(pid, signal.SIGUSR1)
            except ProcessLookupError:
                state = DaemonState.NOT_RUNNING
            else:
                self.notify("Syncing now.", title="Sync", markup=False)
                self._poll_sync()
                return
        why = {
            DaemonState.NOT_ENROLLED: f"this device is not enrolled: {ENROLL_HINT}",
            DaemonState.NOT_RUNNING: f"the sync daemon is not running: {START_HINT}",
            DaemonState.STARTING: "the sync daemon is starting; it syncs as soon as it is up",
        }[state]
        self.notify(f"Cannot sync now: {why}", title="Not synced", severity="warning", markup=False)
        self._poll_sync()

    def action_dead_letters(self) -> None:
        from tui.sync.dead_letters import DeadLettersScreen

        self.app.push_screen(DeadLettersScreen())

    # -- other screens ----------------------------------------------------------------------

    def action_today(self) -> None:
        from tui.records.today import TodayScreen

        self._records_may_have_changed = True
        self.app.push_screen(TodayScreen())

    def action_follow_ups(self) -> None:
        from tui.follow_ups.screen import FollowUpsScreen

        self._records_may_have_changed = True
        self.app.push_screen(FollowUpsScreen())

    def action_history(self) -> None:
        student = self._highlighted()
        if student is None:
            return
        from tui.records.history import HistoryScreen

        self._records_may_have_changed = True
        self.app.push_screen(HistoryScreen(student))

    def action_pick_section(self) -> None:
        from tui.home.sections import SectionPickerScreen

        self.app.push_screen(SectionPickerScreen(self.sections, self.section), self._switch_section)

    def _switch_section(self, choice: tuple[SectionRow | None] | None) -> None:
        if choice is None:
            return
        (self.section,) = choice
        self._load_section()
        self.refresh_day()

    def commands(self) -> Iterator[SystemCommand]:
        """This screen's commands for the command palette."""
        yield SystemCommand(
            "Log an intervention",
            "For the marked students, or the highlighted one",
            self.student_list.action_pick,
        )
        yield SystemCommand(
            "Take a Break",
            "For the highlighted student: in-class spot, TAB Out, or Out and Back",
            lambda: self.action_take_a_break(0),
        )
        yield SystemCommand("End a Take a Break", "Stop a running break", self.action_stop_tab)
        yield SystemCommand("Today's log", "Open, edit or void today's records", self.action_today)
        yield SystemCommand("Follow-ups", "Open follow-ups", self.action_follow_ups)
        yield SystemCommand(
            "Student history", "The highlighted student's school year", self.action_history
        )
        yield SystemCommand("Switch section", "Another class period", self.action_pick_section)
        yield SystemCommand(
            "Call for support",
            "Mobile response staff to your room: now, for the room, or when they can",
            self.action_call_support,
        )
        yield SystemCommand(
            "Sync now", "Ask the sync daemon to sync with the server now", self.action_sync_now
        )
        yield SystemCommand(
            "Refused by the district",
            "What the server refused for good, and why",
            self.action_dead_letters,
        )
