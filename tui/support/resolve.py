"""How the responder closes a call they took: no record, the Level 2 response, or a TAB Out."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.appref import classlog_of
from tui.support.words import who_and_where

if TYPE_CHECKING:
    from schema.support import SupportRequest

Outcome = Literal["none", "logged", "tab-out"]


class ResolveScreen(ModalScreen[Outcome | None]):
    """n: no record needed; l: log the Level 2 response; t: TAB Out to your room."""

    HELP = (
        "Close the call you took. n: no record is needed. l: log the Level 2 response (the log "
        "opens for the student at Level 2, and the record is linked to the call). t: start a "
        "TAB Out to your room for the student. Esc: the call stays yours, open."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "choose('none')", "No record", id="resolve.none"),
        Binding("l", "choose('logged')", "Log Level 2", id="resolve.logged"),
        Binding("t", "choose('tab-out')", "TAB Out", id="resolve.tab_out"),
        Binding("escape", "choose(None)", "Cancel", id="resolve.cancel"),
    ]

    def __init__(self, request: SupportRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Close the call", "bold"), markup=False)
            yield Static(who_and_where(self.request, classlog_of(self)), markup=False)
            lines = [
                "n  no record needed",
                "l  log the Level 2 response (linked to this call)",
                "t  TAB Out to your room",
            ]
            if not self.request.student_ids:
                lines.append("(l and t: find the student on home next, then Enter or 2)")
            yield Static("\n".join(lines), markup=False)
            yield Static("Esc: the call stays yours, open", markup=False)
        yield Footer(compact=True)

    def action_choose(self, outcome: Outcome | None) -> None:
        self.dismiss(outcome)
