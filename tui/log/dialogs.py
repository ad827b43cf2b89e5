"""Questions the log flow asks on the way: R7 safeguards, a bypass reason, a missing action."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from schema.models import ACTION_LABELS, LEVEL_2_ONLY_ACTIONS, Action, Incident, IssSafeguards
from schema.rows import StudentRow
from tui.formatting import action_words, day_and_clock, level_words, student_name
from tui.log.level import ACTION_KEYS, action_bindings, action_choices
from tui.text import literal, one_line
from tui.widgets.choices import Choice, KeyedChoices

SAFEGUARDS: tuple[tuple[str, str, str], ...] = (
    ("w", "school_work", "The student has access to their school work"),
    ("s", "special_education_services", "The student receives their special education services"),
    ("p", "peer_without_disability", "At least one student without a disability is in the setting"),
)


class SafeguardsScreen(ModalScreen[IssSafeguards | None]):
    """R7: an ISS for a student with an IEP needs all three safeguards, or it is a removal."""

    HELP = (
        "Tick each safeguard that is in place with its key, then Enter. Without all three the "
        "record says 'removal from class' instead of ISS (the plan's rule R7)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                key,
                f"tick('{name}')",
                label,
                id=f"safeguards.{name}",
                show=False,
                tooltip=f"Tick or untick: {label}",
            )
            for key, name, label in SAFEGUARDS
        ),
        Binding(
            "enter",
            "confirm",
            "Save",
            id="safeguards.confirm",
            tooltip="Save with these answers",
        ),
        Binding(
            "escape", "cancel", "Cancel", id="safeguards.cancel", tooltip="Back, nothing saved"
        ),
    ]

    def __init__(self, student: StudentRow) -> None:
        super().__init__()
        self.student = student
        self.ticked: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble(
                    ("In-School Suspension for ", "bold"),
                    literal(student_name(self.student), "bold"),
                    (" (has an IEP)", "bold"),
                ),
                markup=False,
            )
            yield Static(
                "An ISS for a student with an IEP needs all three of these (R7). Without all "
                "three it will be recorded as a removal from class, not an ISS.",
                markup=False,
            )
            yield KeyedChoices([Choice(key, label, name) for key, name, label in SAFEGUARDS])
            yield Static(id="safeguards-outcome", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        self.query_one(KeyedChoices).show(self.ticked)
        if len(self.ticked) == len(SAFEGUARDS):
            outcome = "All three in place: it will be recorded as an In-School Suspension."
        else:
            missing = len(SAFEGUARDS) - len(self.ticked)
            outcome = f"{missing} missing: it will be recorded as a REMOVAL FROM CLASS, not an ISS."
        self.query_one("#safeguards-outcome", Static).update(Content.styled(outcome, "bold"))

    def action_tick(self, name: str) -> None:
        self.ticked ^= {name}
        self._show()

    @on(KeyedChoices.Clicked)
    def _clicked(self, event: KeyedChoices.Clicked) -> None:
        self.action_tick(str(event.value))

    def action_confirm(self) -> None:
        self.dismiss(IssSafeguards(**{name: name in self.ticked for _, name, _ in SAFEGUARDS}))

    def action_cancel(self) -> None:
        self.dismiss(None)


class BypassScreen(ModalScreen[str | None]):
    """Going a level higher without the earlier intervention on record: ask why (R5)."""

    HELP = "Type why you are going a level higher without the earlier intervention, then Enter."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="bypass.cancel", tooltip="Back, nothing saved"),
    ]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content.styled("Going up a level without the earlier intervention", "bold")
            )
            yield Static(
                Content.assemble(
                    "The plan asks for an intervention on the earlier occurrence before a "
                    "repeat is answered one level higher. Saving now is recorded as a bypass "
                    "for ",
                    literal(", ".join(self.names), "bold"),
                    ". Esc goes back (press a there to add the missing intervention instead).",
                ),
                markup=False,
            )
            yield Input(placeholder="Reason for the bypass (required), then Enter", max_length=500)
            yield Static(id="bypass-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#bypass-error", Static).update("A reason is needed to bypass.")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AddInterventionScreen(ModalScreen[list[Action] | None]):
    """Record the intervention an earlier occurrence is missing (``DeviceStore.add_actions``)."""

    HELP = "Tick what was done at the earlier occurrence with its key, then Enter to add it there."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Add to that record", id="missing.confirm"),
        Binding("escape", "cancel", "Cancel", id="missing.cancel", tooltip="Back, nothing added"),
        *action_bindings("missing"),
    ]

    def __init__(self, earlier: Incident, name: str, zone: tzinfo) -> None:
        super().__init__()
        self.earlier = earlier
        self.student_label = name
        self.zone = zone
        self.ticked: set[Action] = set()

    def compose(self) -> ComposeResult:
        earlier = self.earlier
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble(
                    ("The earlier occurrence, for ", "bold"),
                    literal(self.student_label, "bold"),
                ),
                markup=False,
            )
            yield Static(
                Content.assemble(
                    f"{day_and_clock(earlier.occurred_at, self.zone)} \N{MIDDLE DOT} "
                    f"{level_words(earlier.level)} \N{MIDDLE DOT} {one_line(earlier.behavior_code)}"
                    f" \N{MIDDLE DOT} {action_words(earlier.actions)}"
                ),
                markup=False,
            )
            yield Static("What was done then? Tick it, then Enter.", markup=False)
            yield KeyedChoices(action_choices(level_2_allowed=earlier.level == 2))
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    def _unavailable(self) -> set[Action]:
        return set(LEVEL_2_ONLY_ACTIONS) if self.earlier.level == 1 else set()

    def _show(self) -> None:
        self.query_one(KeyedChoices).show(self.ticked, self._unavailable())

    def action_toggle_action(self, value: str) -> None:
        action = Action(value)
        if action in self._unavailable():
            self.notify(f"{ACTION_LABELS[action]} cannot be added to a Level 1 record.")
            return
        self.ticked ^= {action}
        self._show()

    @on(KeyedChoices.Clicked)
    def _clicked(self, event: KeyedChoices.Clicked) -> None:
        if isinstance(event.value, Action):
            self.action_toggle_action(event.value.value)

    def action_confirm(self) -> None:
        if not self.ticked:
            self.notify("Tick at least one action (its key), or Esc.")
            return
        self.dismiss([action for action in ACTION_KEYS if action in self.ticked])

    def action_cancel(self) -> None:
        self.dismiss(None)
