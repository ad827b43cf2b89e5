"""Small questions about a saved record: a void reason, a level change, a follow-up note."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static


class ReasonScreen(ModalScreen[str | None]):
    """Asks for a required one-line reason (voiding a record)."""

    HELP = "Type the reason, then Enter. Esc cancels and nothing changes."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel", tooltip="Nothing changes"),
    ]

    def __init__(self, title: str, explanation: Content | str, placeholder: str) -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), markup=False)
            yield Static(self.explanation, markup=False)
            yield Input(placeholder=self.placeholder, max_length=500)
            yield Static(id="reason-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#reason-error", Static).update(
                Content.styled("A reason is required.", "bold")
            )
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no, with the consequences spelled out."""

    HELP = "y or Enter confirms; n or Esc cancels."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, explanation: Content | str) -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), markup=False)
            yield Static(self.explanation, markup=False)
            yield Static("y: yes    n: no", markup=False)
        yield Footer(compact=True)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class FollowUpDoneScreen(ModalScreen[str | None]):
    """Mark a follow-up done, with an optional note; dismisses with the note ('' for none)."""

    HELP = "Type an optional note, then Enter to mark the follow-up done. Esc cancels."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="follow_up_done.cancel", tooltip="Not done yet"),
    ]

    def __init__(self, what: Content | str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Mark this follow-up done", "bold"), markup=False)
            yield Static(self.what, markup=False)
            yield Input(placeholder="Note (optional), then Enter", max_length=4000)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
