"""Office-managed behaviors (R4): their range starts at Level 3, so staff log nothing at 1 or 2.

The screen says so plainly and repeats the grid's Title IX or mandatory-reporting notices.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from schema.grid import OFFICE_MANAGED_NOTICE, GridEntry
from tui.text import literal, one_line


class OfficeScreen(Screen[None]):
    """Says a behavior is office-managed; nothing is logged."""

    HELP = "This behavior is handled by the office. Nothing was logged. Enter or Esc goes back."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,enter",
            "back",
            "Back to behaviors",
            id="office.back",
            tooltip="Back to the behavior list (nothing was logged)",
        ),
    ]

    def __init__(self, entry: GridEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        entry = self.entry
        levels = (
            f"Levels {entry.levels[0]}-{entry.levels[-1]}"
            if len(entry.levels) > 1
            else (f"Level {entry.levels[0]}")
        )
        with Vertical(id="office"):
            yield Static(
                Content.styled("OFFICE-MANAGED: contact the office", "bold"), id="office-title"
            )
            yield Static(
                Content.assemble(
                    (one_line(entry.code), "bold"),
                    "  ",
                    literal(one_line(entry.behavior)),
                    f"  ({levels})",
                ),
                markup=False,
            )
            yield Static(
                f"{OFFICE_MANAGED_NOTICE} Staff log only Levels 1 and 2; this behavior starts "
                f"at Level {entry.levels[0]}.",
                markup=False,
            )
            titled = []
            if entry.title_ix:
                titled.append("Title IX")
            if entry.mandatory_reporting:
                titled.append("Mandatory reporting")
            for title, notice in zip(titled, entry.notices, strict=False):
                yield Static(
                    Content.assemble((f"{title}: ", "bold"), notice),
                    classes="notice",
                    markup=False,
                )
            yield Static(
                Content.styled("Nothing was logged.", "bold"), id="office-nothing", markup=False
            )
        yield Footer(compact=True)

    def action_back(self) -> None:
        self.dismiss(None)
