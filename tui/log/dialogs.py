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

from schema.models import (
    INTERVENTION_LABELS,
    Incident,
    InterventionKind,
    IssSafeguards,
)
from schema.rows import StudentRow
from tui.formatting import day_and_clock, level_words, student_name
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
        "record says 'removal from class' instead of ISS (the plan's rule for students with "
        "disabilities)."
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
                "An ISS for a student with an IEP needs all three of these. Without all "
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
    """Going a level higher than advised, or without the earlier intervention: ask why (R5)."""

    HELP = "Type why you are going a level higher than advised, then Enter. Esc goes back."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="bypass.cancel", tooltip="Back, nothing saved"),
    ]

    def __init__(self, names: list[str], *, above_advised: list[str] | None = None) -> None:
        super().__init__()
        self.names = names
        self.above_advised = above_advised or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Going a level higher than advised", "bold"))
            if self.names:
                yield Static(
                    Content.assemble(
                        "The plan asks for an intervention on the earlier occurrence before a "
                        "repeat is answered one level higher. Saving now is recorded as going "
                        "up without it for ",
                        literal(", ".join(self.names), "bold"),
                        ". Esc goes back (press a there to add the missing intervention instead).",
                    ),
                    markup=False,
                )
            if self.above_advised:
                yield Static(
                    Content.assemble(
                        "The advice is a lower level for ",
                        literal(", ".join(self.above_advised), "bold"),
                        ". Say why this needs a higher level; the reason is kept with the record.",
                    ),
                    markup=False,
                )
            yield Input(placeholder="Reason (required), then Enter", max_length=500)
            yield Static(id="bypass-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#bypass-error", Static).update("A reason is required.")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


INTERVENTION_KEYS: dict[InterventionKind, str] = {
    InterventionKind.RETEACHING: "1",
    InterventionKind.MONITORED_STRATEGY: "2",
    InterventionKind.BEHAVIOR_ANALYSIS: "3",
    InterventionKind.LONG_TERM_SUPPORT: "4",
    InterventionKind.STUDENT_SERVICES_PLAN: "5",
}


class AddInterventionScreen(ModalScreen[InterventionKind | None]):
    """Record the intervention an earlier occurrence is missing (R5): one of the plan's kinds,
    starting today (``DeviceStore.add_intervention``). Actions and follow-ups do not count."""

    HELP = (
        "Choose the intervention with its key (1-5), then Enter: it is recorded for this "
        "student and behavior, starting today, with a review date. Actions such as redirect or "
        "a removal, and ticked follow-ups, are not interventions."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Record it", id="missing.confirm"),
        Binding("escape", "cancel", "Cancel", id="missing.cancel", tooltip="Back, nothing added"),
        *[
            Binding(
                key,
                f"choose('{kind.value}')",
                INTERVENTION_LABELS[kind],
                id=f"missing.kind_{kind.value}",
                show=False,
                tooltip=f"Choose: {INTERVENTION_LABELS[kind]}",
            )
            for kind, key in INTERVENTION_KEYS.items()
        ],
    ]

    def __init__(self, earlier: Incident | None, name: str, zone: tzinfo) -> None:
        super().__init__()
        self.earlier = earlier
        self.student_label = name
        self.zone = zone
        self.chosen: InterventionKind | None = None

    def compose(self) -> ComposeResult:
        earlier = self.earlier
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble(
                    ("Record an intervention for ", "bold"),
                    literal(self.student_label, "bold"),
                ),
                markup=False,
            )
            yield Static(
                Content(
                    "For all of this student's behaviors, starting today."
                    if earlier is None
                    else f"It answers: {day_and_clock(earlier.occurred_at, self.zone)} "
                    f"\N{MIDDLE DOT} {level_words(earlier.level)} \N{MIDDLE DOT} "
                    f"{one_line(earlier.behavior_code)}"
                ),
                markup=False,
            )
            yield Static("Which intervention? Press its key, then Enter.", markup=False)
            yield KeyedChoices(
                [
                    Choice(key, INTERVENTION_LABELS[kind], kind)
                    for kind, key in INTERVENTION_KEYS.items()
                ],
                single=True,
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        self.query_one(KeyedChoices).show([self.chosen] if self.chosen else [], [])

    def action_choose(self, value: str) -> None:
        self.chosen = InterventionKind(value)
        self._show()

    @on(KeyedChoices.Clicked)
    def _clicked(self, event: KeyedChoices.Clicked) -> None:
        if isinstance(event.value, InterventionKind):
            self.action_choose(event.value.value)

    def action_confirm(self) -> None:
        if self.chosen is None:
            self.notify("Choose the intervention (its key, 1-5), or Esc.")
            return
        self.dismiss(self.chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
