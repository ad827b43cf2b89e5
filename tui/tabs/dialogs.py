"""Take a Break: start (kind, who started it), stop ("returned ready?"), pick a running one.

Take a Break is a support, not discipline (R3): nothing here says suspension or removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from schema.models import StartedBy, TabKind
from schema.rows import RunningTab, StudentRow
from tui.appref import classlog_of
from tui.formatting import (
    STARTED_BY_WORDS,
    TAB_KIND_LABELS_BY_NUMBER,
    TAB_KIND_SHORT,
    elapsed_mm_ss,
    student_name,
)
from tui.text import fit, literal
from tui.widgets.choices import Choice, KeyedChoices

if TYPE_CHECKING:
    from tui.app import ClasslogApp


@dataclass(frozen=True)
class TabStart:
    kind: TabKind
    started_by: StartedBy


@dataclass(frozen=True)
class TabStop:
    returned_ready: bool
    reflection: str | None
    void: bool = False
    """Started by mistake: void it (with a reason) instead of ending it."""


def _classlog(screen: DOMNode) -> ClasslogApp:
    return classlog_of(screen)


class TabStartScreen(ModalScreen[TabStart | None]):
    """Kind (1/2/3) and who started it: Enter for the teacher, s for the student."""

    HELP = (
        "1, 2 or 3 chooses the kind of break. Enter starts it as started by you (the teacher); "
        "s starts it as asked for by the student. Esc cancels."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                str(number),
                f"kind({number})",
                label,
                id=f"tab_start.kind_{number}",
                show=False,
                tooltip=f"Kind of break: {label}",
            )
            for number, (_, label) in TAB_KIND_LABELS_BY_NUMBER.items()
        ),
        Binding(
            "enter",
            "start('teacher')",
            "Started by teacher",
            id="tab_start.teacher",
            tooltip="Start the break, as started by you",
        ),
        Binding(
            "s",
            "start('student')",
            "Started by student",
            id="tab_start.student",
            tooltip="Start the break, as asked for by the student",
        ),
        Binding("escape", "cancel", "Cancel", id="tab_start.cancel", tooltip="Nothing is saved"),
    ]

    def __init__(self, student: StudentRow, kind: TabKind | None) -> None:
        super().__init__()
        self.student = student
        self.kind = kind or TabKind.SPOT

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble(
                    ("Take a Break for ", "bold"), literal(student_name(self.student), "bold")
                ),
                markup=False,
            )
            yield KeyedChoices(
                [
                    Choice(str(number), label, kind)
                    for number, (kind, label) in TAB_KIND_LABELS_BY_NUMBER.items()
                ],
                single=True,
            )
            yield Static(
                "Enter: you started it  \N{MIDDLE DOT}  s: the student asked  "
                "\N{MIDDLE DOT}  Esc: cancel",
                markup=False,
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(KeyedChoices).show([self.kind])

    def action_kind(self, number: int) -> None:
        self.kind = TAB_KIND_LABELS_BY_NUMBER[number][0]
        self.query_one(KeyedChoices).show([self.kind])

    @on(KeyedChoices.Clicked)
    def _clicked(self, event: KeyedChoices.Clicked) -> None:
        if isinstance(event.value, TabKind):
            self.kind = event.value
            self.query_one(KeyedChoices).show([self.kind])

    def action_start(self, started_by: str) -> None:
        self.dismiss(TabStart(self.kind, StartedBy(started_by)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TabStopScreen(ModalScreen[TabStop | None]):
    """End a break: did the student return ready? (plus a reflection for Out and Back)."""

    AUTO_FOCUS = ""
    HELP = (
        "y: the student returned ready; n: not ready. For TAB Out and Back you can then type "
        "the reflection and press Enter. v voids a break started by mistake (you give a "
        "reason). Esc cancels (the break keeps running)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "ready(True)", "Returned ready", id="tab_stop.ready"),
        Binding("n", "ready(False)", "Not ready", id="tab_stop.not_ready"),
        Binding(
            "v",
            "void",
            "Void (mistake)",
            id="tab_stop.void",
            tooltip="Started by mistake: void this break with a reason (it no longer counts)",
        ),
        Binding(
            "escape", "cancel", "Cancel", id="tab_stop.cancel", tooltip="The break keeps running"
        ),
    ]

    def __init__(self, tab: RunningTab, name: str) -> None:
        super().__init__()
        self.tab = tab
        self.student_label = name
        self.ready: bool | None = None

    def compose(self) -> ComposeResult:
        tab = self.tab
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble(
                    ("End Take a Break for ", "bold"), literal(self.student_label, "bold")
                ),
                markup=False,
            )
            yield Static(id="tab-stop-timer", markup=False)
            yield Static(
                Content.styled("Returned ready?  y yes  \N{MIDDLE DOT}  n no", "bold"),
                id="tab-stop-question",
                markup=False,
            )
            if tab.kind is TabKind.OUT_AND_BACK:
                reflection = Input(
                    placeholder="Reflection (optional), then Enter",
                    max_length=4000,
                    id="tab-stop-reflection",
                )
                reflection.display = False
                yield reflection
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        tab = self.tab
        self.query_one("#tab-stop-timer", Static).update(
            f"{TAB_KIND_SHORT[tab.kind]}, {STARTED_BY_WORDS[tab.started_by]}, running "
            f"{elapsed_mm_ss(tab.started_at, _classlog(self).now())}"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"ready", "void"}:
            return self.ready is None
        return True

    def action_void(self) -> None:
        self.dismiss(TabStop(returned_ready=False, reflection=None, void=True))

    def action_ready(self, ready: bool) -> None:
        if self.tab.kind is not TabKind.OUT_AND_BACK:
            self.dismiss(TabStop(ready, None))
            return
        self.ready = ready
        answer = "yes" if ready else "no"
        self.query_one("#tab-stop-question", Static).update(f"Returned ready: {answer}")
        reflection = self.query_one("#tab-stop-reflection", Input)
        reflection.display = True
        reflection.focus()
        self.refresh_bindings()

    @on(Input.Submitted)
    def _reflection(self, event: Input.Submitted) -> None:
        if self.ready is None:
            return
        self.dismiss(TabStop(self.ready, event.value.strip() or None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class RunningTabPickerScreen(ModalScreen[RunningTab | None]):
    """Which running break to end."""

    HELP = "Pick the break to end with the arrows and Enter, or its number. Esc cancels."
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                str(number),
                f"pick_number({number})",
                "Pick",
                id=f"tab_pick.{number}",
                show=False,
            )
            for number in range(1, 10)
        ),
        Binding("escape", "cancel", "Cancel", id="tab_pick.cancel"),
    ]

    def __init__(self, tabs: list[RunningTab], names: Mapping[str, str]) -> None:
        super().__init__()
        self.tabs = tabs
        self.names = names

    def compose(self) -> ComposeResult:
        now = _classlog(self).now()
        with Vertical(classes="dialog"):
            yield Static(Content.styled("End which Take a Break?", "bold"))
            yield OptionList(
                *(
                    Option(
                        Content.assemble(
                            (f"{number} ", "bold"),
                            fit(self.names.get(tab.student_id, tab.student_id), 28),
                            f" {TAB_KIND_SHORT[tab.kind]}, {elapsed_mm_ss(tab.started_at, now)}",
                        ),
                        id=tab.id,
                    )
                    for number, tab in enumerate(self.tabs, start=1)
                ),
                markup=False,
            )
        yield Footer(compact=True)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.tabs[event.option_index])

    def action_pick_number(self, number: int) -> None:
        if 1 <= number <= len(self.tabs):
            self.dismiss(self.tabs[number - 1])

    def action_cancel(self) -> None:
        self.dismiss(None)
