"""Help (F1 or ?): what each key does on the screen underneath, and the main flows."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from textual.binding import ActiveBinding

FLOWS = (
    "Log a Level 1: type part of the student's name, Enter, the behavior's number (1-9), the "
    "action's key (r Redirect, e Reteach, p Proximity, ...), Enter. The level the plan advises "
    "is already chosen.\n"
    "Log a Level 2 with an ISS: as above, then the right arrow for Level 2, i for ISS, Enter. "
    "For a student with an IEP you are asked about the three safeguards.\n"
    "Several students at once: Space marks each one, then Enter.\n"
    "Take a Break: highlight the student, press 1 (in-class spot), 2 (TAB Out) or 3 (TAB Out "
    "and Back), then Enter if you started it or s if the student asked. ctrl+e ends one.\n"
    "Records: ctrl+d today's log, ctrl+o the highlighted student's history, ctrl+f open "
    "follow-ups. Open a record to edit it, change its level, or void it with a reason.\n"
    "Sync: the bottom line says whether the daemon is online and what waits to sync; ctrl+s "
    "syncs now, ctrl+l lists what the district refused, and why.\n"
    "ctrl+p opens the command palette; ctrl+q quits. Saved means saved: a record is on disk "
    "before 'Saved' is shown."
)


class HelpScreen(ModalScreen[None]):
    """Lists the keys active on the screen below, with what each does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "close", "Close help", id="help.close"),
    ]

    def __init__(self, under: Screen[object], bindings: list[ActiveBinding]) -> None:
        super().__init__()
        self.under = under
        self.key_bindings = bindings

    def _key_rows(self) -> list[tuple[str, Content]]:
        """One row per binding id (a binding on several keys lists them together)."""
        keys_by_id: dict[str, list[str]] = {}
        bindings: dict[str, Binding] = {}
        for active in self.key_bindings:
            binding = active.binding
            if binding.id is None or binding.system or not binding.description:
                continue
            key = self.app.get_key_display(binding)
            keys = keys_by_id.setdefault(binding.id, [])
            if key not in keys:
                keys.append(key)
            bindings.setdefault(binding.id, binding)
        rows = []
        for binding_id, binding in bindings.items():
            explanation = f": {binding.tooltip}" if binding.tooltip else ""
            rows.append(
                (
                    " ".join(keys_by_id[binding_id]),
                    Content.assemble((binding.description, "bold"), explanation),
                )
            )
        return rows

    def compose(self) -> ComposeResult:
        about = getattr(self.under, "HELP", "")
        with VerticalScroll(id="help-body"):
            yield Static(Content.styled("Help", "bold"), markup=False)
            if about:
                yield Static(about, markup=False, classes="help-about")
            yield Static(Content.styled("Keys on this screen", "bold"), markup=False)
            for key, what in self._key_rows():
                with Horizontal(classes="help-key"):
                    yield Static(key, markup=False, classes="help-key-name")
                    yield Static(what, markup=False)
            yield Static(Content.styled("The main flows", "bold"), markup=False)
            yield Static(FLOWS, markup=False)
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)
