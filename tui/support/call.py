"""The teacher's call for support: one dialog, one more key.

ctrl+r on home opens it; Enter calls for the highlighted student now, r for the room now, w for
the highlighted student "when you can". n (or Tab) goes to the optional short line first; Enter
there calls now for the student (or the room when no student is highlighted). Nothing is stored
until one of those keys: Esc leaves without calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from schema.rows import StudentRow
from tui.formatting import student_name
from tui.text import literal

NOTE_LIMIT = 140
"""The longest line a request may carry (the store refuses longer)."""

Urgency = Literal["now", "soon"]


@dataclass(frozen=True, slots=True)
class SupportCall:
    """What the teacher asked for; ``student`` None means the room."""

    urgency: Urgency
    student: StudentRow | None
    note: str


class CallSupportScreen(ModalScreen[SupportCall | None]):
    """Call a mobile response staff member to this room."""

    HELP = (
        "Calls a mobile response staff member to your room. Enter: now, for the highlighted "
        "student. r: now, for the room (no student named). w: when you can, for the highlighted "
        "student. n or Tab: type one short line first (at most 140 characters), then Enter. "
        "Never write Level 1 details here. Esc: nothing is sent."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "call('now', 'student')",
            "Now, this student",
            id="call.now",
            tooltip="Call support now for the highlighted student",
        ),
        Binding(
            "r",
            "call('now', 'room')",
            "Now, the room",
            id="call.room",
            tooltip="Call support now for the room (no student named)",
        ),
        Binding(
            "w",
            "call('soon', 'student')",
            "When you can",
            id="call.soon",
            tooltip="Call support when someone can come, for the highlighted student",
        ),
        Binding(
            "n,tab",
            "note",
            "Add a line",
            id="call.note",
            tooltip="Type one short line for the responder first",
        ),
        Binding("escape", "cancel", "Cancel", id="call.cancel", tooltip="Nothing is sent"),
    ]

    def __init__(self, student: StudentRow | None, where: str) -> None:
        super().__init__()
        self.student = student
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="call-dialog"):
            yield Static(
                Content.assemble(("Call for support to ", "bold"), literal(self.where, "bold")),
                markup=False,
            )
            if self.student is not None:
                name = literal(student_name(self.student), "bold")
                lines = Content("\n").join(
                    [
                        Content.assemble("Enter  now, for ", name),
                        Content("r      now, for the room"),
                        Content.assemble("w      when you can, for ", name),
                        Content("n      add one short line first (no Level 1 details)"),
                    ]
                )
            else:
                lines = Content(
                    "r or Enter  now, for the room\nn  add one short line first "
                    "(no Level 1 details)"
                )
            yield Static(lines, id="call-choices", markup=False)
            yield Static("Esc: nothing is sent", markup=False)
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"call", "note"} and self.query("#call-note"):
            return False
        if action == "call" and parameters[1:] == ("student",) and parameters[0] == "soon":
            return self.student is not None
        return True

    def _note(self) -> str:
        for note in self.query("#call-note").results(Input):
            return " ".join(note.value.split())
        return ""

    def action_call(self, urgency: Urgency, target: str) -> None:
        student = self.student if target == "student" else None
        self.dismiss(SupportCall(urgency, student, self._note()))

    def action_note(self) -> None:
        """The short line is mounted only now, so that until n or Tab every key acts at once."""
        note = Input(
            placeholder="One short line (optional), then Enter",
            max_length=NOTE_LIMIT,
            id="call-note",
        )
        self.query_one("#call-dialog").mount(note, after="#call-choices")
        note.focus()
        self.refresh_bindings()

    @on(Input.Submitted, "#call-note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(SupportCall("now", self.student, self._note()))

    def action_cancel(self) -> None:
        self.dismiss(None)
