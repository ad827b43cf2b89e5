"""Leaving classlog: one question, only when leaving would leave something behind."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.formatting import counted
from tui.home.sync_status import START_HINT, DaemonState, daemon_state

if TYPE_CHECKING:
    from schema.rows import DeviceReader


def reasons_to_stay(reader: DeviceReader) -> list[str]:
    """What quitting now would leave behind, in words (empty: nothing)."""
    reasons = []
    running = reader.running_tabs()
    if running:
        reasons.append(
            f"{counted(len(running), 'Take a Break')} still running: its timer keeps counting "
            "until someone ends it (open classlog again and press its number or ctrl+e)."
        )
    status = reader.sync_status()
    if status.pending_count:
        state = daemon_state(status, reader.daemon_pid())
        waiting = counted(status.pending_count, "change")
        if state is DaemonState.NOT_RUNNING:
            reasons.append(
                f"{waiting} waiting to sync, and the sync daemon is not running: they stay "
                f"saved on this device and go to the district once it runs ({START_HINT})."
            )
        elif state is DaemonState.NOT_ENROLLED:
            reasons.append(
                f"{waiting} waiting to sync, and this device is not enrolled: they stay saved "
                "on this device until it is."
            )
    return reasons


class QuitScreen(ModalScreen[bool]):
    """Quit anyway? y (or ctrl+q again) quits; n or Esc stays."""

    HELP = "y or ctrl+q quits; n or Esc goes back. Everything shown as saved is already on disk."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quit", id="quit.yes", tooltip="Quit classlog now"),
        Binding("n,escape", "answer(False)", "Stay", id="quit.no", tooltip="Back to classlog"),
    ]

    def __init__(self, reasons: list[str]) -> None:
        super().__init__()
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Quit classlog?", "bold"), markup=False)
            for reason in self.reasons:
                yield Static(f"\N{BULLET} {reason}", markup=False)
            yield Static("Everything shown as saved is already on disk.", markup=False)
            yield Static("y or ctrl+q: quit    n or Esc: stay", markup=False)
        yield Footer(compact=True)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
