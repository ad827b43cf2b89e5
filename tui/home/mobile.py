"""Home for a mobile response device: the school, not a section.

Open calls for support come first (oldest at top, with room, teacher and minutes waiting); then
every student of the school to find by typing (Enter logs, 1/2/3 starts a Take a Break, as on a
teacher's home); then this responder's own recent records and other staff's Level 2 records for
the school, each with its author. ctrl+a takes the oldest open call ("on my way"); ctrl+n closes
the call this responder took: no record, the Level 2 response (linked to the call), or a TAB
Out to their room.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Footer, Static

from schema.errors import UserError
from schema.models import Action, TabKind
from schema.rows import SectionRow, StudentRow
from tui.formatting import level_words, short_day
from tui.home.running_tabs import RunningTabs
from tui.home.screen import HomeScreen
from tui.home.student_list import StudentList, header_line
from tui.home.sync_status import SyncStatusLine
from tui.text import fit, literal, one_line

if TYPE_CHECKING:
    from schema.models import Incident, TabEvent
    from schema.support import SupportRequest
    from tui.log.draft import LogResult
    from tui.support.resolve import Outcome
    from tui.tabs.dialogs import TabStart

RECENT_DAYS = 7
"""How far back the records panel looks."""
OWN_RECORDS = 3
OTHERS_RECORDS = 4
CALLS_SHOWN = 5
TEACHER_ONLY_ACTIONS = frozenset({"call_support", "cancel_support", "pick_section"})
"""Home actions a mobile device does not offer: it calls nobody and has no sections."""


class MobileHomeScreen(HomeScreen):
    """The school's calls, students and Level 2 records, for a roaming responder."""

    HELP = (
        "Calls for support come first, oldest at the top: room, teacher, who for, and minutes "
        "waiting. A new call rings and shows a banner on any screen: Enter there takes it "
        '("on my way"). ctrl+a takes the oldest open call from here. ctrl+n closes the call '
        "you took: n no record needed, l log the Level 2 response (the log opens for the "
        "student at Level 2 and the record is linked to the call), t a TAB Out to your room. "
        "Type a name to find any student of the school; Enter logs, 1/2/3 start a Take a "
        "Break. Below the students: your recent records and other staff's Level 2 records, "
        "with their author. ctrl+d lists today's records, ctrl+o the student's history."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+a",
            "accept_call",
            "On my way",
            id="mobile.accept",
            tooltip="Take the oldest open call for support",
        ),
        Binding(
            "ctrl+n",
            "resolve_call",
            "Close call",
            id="mobile.resolve",
            tooltip="Close the call you took: no record, log the Level 2 response, or TAB Out",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[SupportRequest] = []
        self._calls_text = ""
        self._records_generation = -1
        self._linking: tuple[str, Outcome] | None = None
        """A call being closed by the next record or TAB Out this responder saves."""

    def compose(self) -> ComposeResult:
        yield Static(id="home-title", markup=False)
        yield Static("Calls: reading\N{HORIZONTAL ELLIPSIS}", id="mobile-calls", markup=False)
        yield Static(id="home-find", markup=False)
        yield Static(header_line(), id="home-columns", markup=False)
        yield StudentList(id="home-students")
        yield Static(id="mobile-records", markup=False)
        yield RunningTabs(id="home-tabs")
        yield Static(id="home-status", markup=False)
        yield Static(id="home-saved", markup=False)
        yield SyncStatusLine(id="home-sync")
        yield Footer(compact=True, show_command_palette=False)

    status_hint = ""

    def first_section(self) -> tuple[list[SectionRow], SectionRow | None]:
        return [], None

    def _room(self) -> str:
        return "School"

    def _show_title(self) -> None:
        super()._show_title()
        reader = self.classlog.reader
        staff = reader.staff_member(reader.staff_id or "")
        who = staff.display_name if staff is not None else "no staff member set"
        dot = " \N{MIDDLE DOT} "
        self.query_one("#home-title", Static).update(
            Content.assemble(
                ("classlog", "bold"),
                dot,
                ("Mobile response", "bold"),
                f"{dot}{len(self.students)} students{dot}",
                literal(one_line(who)),
            ),
            layout=False,
        )

    def commands(self) -> Iterator[SystemCommand]:
        yield SystemCommand(
            "On my way", "Take the oldest open call for support", self.action_accept_call
        )
        yield SystemCommand(
            "Close your call",
            "No record, log the Level 2 response, or a TAB Out to your room",
            self.action_resolve_call,
        )
        for command in super().commands():
            if command.title not in {"Switch section", "Call for support"}:
                yield command

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in TEACHER_ONLY_ACTIONS:
            return False
        if action == "accept_call":
            return True if self._oldest_open() is not None else None
        if action == "resolve_call":
            return True if self._mine() is not None else None
        return True

    # -- calls ------------------------------------------------------------------------------

    def _poll_support(self) -> None:
        classlog = self.classlog
        if not classlog.store_loaded:
            return
        poll = classlog.support_poll
        requests = poll.requests(classlog.store)
        active = [request for request in requests if request.state in {"open", "accepted"}]
        if [request.id for request in active] != [request.id for request in self.calls] or any(
            new != old for new, old in zip(active, self.calls, strict=True)
        ):
            self.calls = active
            self.refresh_bindings()
        self._show_calls()
        if poll.generation != self._records_generation:
            self._records_generation = poll.generation
            self._show_records()

    def _show_calls(self) -> None:
        from tui.support.words import request_line

        now = self.classlog.now()
        if not self.calls:
            text = Content.assemble(("Calls: ", "bold"), "none open")
        else:
            lines = [
                request_line(request, self.classlog, now) for request in self.calls[:CALLS_SHOWN]
            ]
            more = len(self.calls) - CALLS_SHOWN
            heading = Content.assemble(
                (f"Calls ({len(self.calls)}), oldest first: ", "bold"),
                "ctrl+a on my way \N{MIDDLE DOT} ctrl+n close yours",
            )
            if more > 0:
                lines.append(Content(f"  and {more} more"))
            text = Content("\n").join([heading, *lines])
        if text.plain != self._calls_text:
            self._calls_text = text.plain
            self.query_one("#mobile-calls", Static).update(text)

    def _oldest_open(self) -> SupportRequest | None:
        return next(
            (
                request
                for request in self.calls
                if request.state == "open" and not request.pending_accept and not request.lost_to
            ),
            None,
        )

    def _mine(self) -> SupportRequest | None:
        staff_id = self.classlog.reader.staff_id
        return next(
            (
                request
                for request in self.calls
                if request.state == "accepted" and request.accepted_by == staff_id
            ),
            None,
        )

    def action_accept_call(self) -> None:
        from tui.support.watch import accept

        request = self._oldest_open()
        if request is None:
            self.notify("No call is waiting for a responder.", markup=False)
            return
        accept(self.classlog, request.id)
        self._poll_support()

    def action_resolve_call(self) -> None:
        request = self._mine()
        if request is None:
            self.notify("You have not taken a call: ctrl+a takes the oldest one.", markup=False)
            return
        from tui.support.resolve import ResolveScreen

        self.app.push_screen(
            ResolveScreen(request), lambda outcome: self._resolve(request, outcome)
        )

    def _student_of(self, request: SupportRequest) -> StudentRow | None:
        directory = self.classlog.directory
        for student_id in request.student_ids:
            if student_id in directory:
                return directory[student_id]
        return None

    def _resolve(self, request: SupportRequest, outcome: Outcome | None) -> None:
        if outcome is None:
            return
        if outcome == "none":
            self._close_call(request.id, "none")
            return
        self._linking = (request.id, outcome)
        student = self._student_of(request)
        if student is None:
            key = "Enter logs" if outcome == "logged" else "2 starts the TAB Out"
            self.notify(
                f"Find the student (type their name), then {key}: it closes the call.",
                markup=False,
                timeout=10,
            )
            return
        if outcome == "logged":
            self._open_log([student])
        else:
            from tui.tabs.dialogs import TabStartScreen

            self.app.push_screen(
                TabStartScreen(student, TabKind.OUT),
                lambda choice: self._start_tab(student, choice),
            )

    def _open_log(self, students: list[StudentRow]) -> None:
        from tui.log.behavior import BehaviorPickerScreen

        self.app.push_screen(
            BehaviorPickerScreen(students, level=2, actions=frozenset({Action.MOBILE_RESPONSE})),
            self._logged,
        )

    def log_students(self, students: list[StudentRow]) -> None:
        if self._linking is not None and self._linking[1] == "logged":
            self._open_log(students)
            return
        super().log_students(students)

    def _logged(self, result: LogResult | None) -> None:
        linking, self._linking = self._linking, None
        super()._logged(result)
        if result is None or linking is None or linking[1] != "logged":
            return
        linked = next(
            (incident for incident in result.incidents if incident.level == 2),
            result.incidents[-1],
        )
        self._close_call(linking[0], "logged", linked.id)

    def start_tab(self, student: StudentRow, choice: TabStart | None) -> TabEvent | None:
        linking = self._linking
        tab = super().start_tab(student, choice)
        if linking is not None and linking[1] == "tab-out":
            self._linking = None
            if tab is not None:
                self._close_call(linking[0], "tab-out")
        return tab

    def _close_call(
        self, request_id: str, outcome: Outcome, incident_id: str | None = None
    ) -> None:
        from schema.support import resolve_request

        try:
            resolve_request(self.classlog.store, request_id, outcome, incident_id=incident_id)
        except UserError as error:
            self.notify(
                one_line(str(error)),
                title="Call not closed",
                severity="error",
                markup=False,
                timeout=8,
            )
            return
        self.classlog.support_poll.invalidate()
        words = {
            "none": "no record needed",
            "logged": "Level 2 response logged and linked",
            "tab-out": "TAB Out to your room",
        }[outcome]
        self.last_saved = self._saved_line(Content(f"Call closed: {words}"))
        self._show_status()
        self.notify(f"Call closed: {words}.", title="Saved", markup=False)
        self._poll_support()

    # -- records ----------------------------------------------------------------------------

    def refresh_day(self, *, count_follow_ups: bool = True) -> None:
        super().refresh_day(count_follow_ups=count_follow_ups)
        if self.classlog.store_loaded:
            self._show_records()

    def _show_records(self) -> None:
        """This responder's latest records, and other staff's Level 2 ones with their author."""
        classlog = self.classlog
        store = classlog.store
        staff_id = classlog.reader.staff_id
        now = classlog.now()
        recent = store.incidents_between(
            now - timedelta(days=RECENT_DAYS), now + timedelta(days=1), include_voided=False
        )
        own = [incident for incident in recent if incident.staff_id == staff_id][:OWN_RECORDS]
        others = [
            incident for incident in recent if incident.staff_id != staff_id and incident.level == 2
        ][:OTHERS_RECORDS]
        lines: list[Content] = [Content.styled("Your recent records", "bold")]
        lines += [self._record_line(incident, None) for incident in own] or [Content("  none")]
        lines.append(Content.styled("Level 2 by other staff", "bold"))
        lines += [
            self._record_line(incident, self._author(incident.staff_id)) for incident in others
        ] or [Content("  none")]
        self.query_one("#mobile-records", Static).update(Content("\n").join(lines))

    def _author(self, staff_id: str | None) -> str:
        if not staff_id:
            return "unknown author"
        staff = self.classlog.reader.staff_member(staff_id)
        return one_line(staff.display_name) if staff is not None else staff_id

    def _record_line(self, incident: Incident, author: str | None) -> Content:
        zone = self.classlog.reader.timezone
        name = fit(one_line(self.classlog.student_label(incident.student_id)), 20)
        parts = [
            Content(f"  {short_day(incident.occurred_at, zone)}  "),
            literal(name),
            Content(f"  {level_words(incident.level)}  {one_line(incident.behavior_code)}"),
        ]
        if author is not None:
            parts += [Content("  by "), literal(author)]
        return Content.assemble(*parts)
