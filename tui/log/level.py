"""Step 3 of the log flow: the level (advised one preselected) and the actions taken.

Only allowed levels can be chosen; the advice's reason is shown. Level 2-only actions (support
staff called, removal, ISS) can only be ticked at Level 2. When the advice names an earlier
record without an intervention, the teacher can add it there first (``a``) or go up anyway and
give a reason (recorded as a bypass, R5). Enter saves; ``d`` opens the optional details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from schema.grid import MANDATORY_REPORTING_NOTICE, TITLE_IX_NOTICE
from schema.models import (
    ACTION_LABELS,
    INTERVENTION_LABELS,
    LEVEL_2_ONLY_ACTIONS,
    RESPONDER_ACTIONS,
    TITLE_IX_BARRED_ACTIONS,
    Action,
    InterventionDraft,
)
from schema.store import StoreError
from tui.appref import classlog_of
from tui.formatting import level_words, short_day, student_name
from tui.log.behavior import subject_line
from tui.log.draft import (
    ISS_FULL_DAY,
    ISS_HALF_DAY,
    REMOVAL_LENGTHS,
    LogDraft,
    LogResult,
    describe,
    refusal_words,
    save_draft,
)
from tui.text import literal, one_line
from tui.widgets.choices import Choice, KeyedChoices

if TYPE_CHECKING:
    from tui.app import ClasslogApp
    from tui.log.details import Details

ACTION_KEYS: dict[Action, str] = {
    Action.REDIRECT: "r",
    Action.RETEACH: "e",
    Action.PROXIMITY: "p",
    Action.PRIVATE_CONFERENCE: "c",
    Action.SEAT_CHANGE: "s",
    Action.TAKE_A_BREAK: "b",
    Action.FAMILY_CONTACT: "f",
    Action.MOBILE_RESPONSE: "m",
    Action.SUPPORT_STAFF: "t",
    Action.ANOTHER_ADULT: "o",
    Action.REMOVAL: "v",
    Action.ISS: "i",
}
EACH_ADVISED = "each"


def action_choices(*, level_2_allowed: bool = True, responders: bool = False) -> list[Choice]:
    """The actions taken (``responders``: who responded, the Level 2 question instead)."""
    return [
        Choice(
            ACTION_KEYS[action],
            ACTION_LABELS[action],
            action,
            "Level 2 only" if level_2_allowed else "Level 2 only, not on a Level 1 record",
        )
        for action in ACTION_KEYS
        if (action in RESPONDER_ACTIONS) == responders
    ]


def level_2_missing(draft: LogDraft) -> str | None:
    """What a Level 2 still lacks: who responded, and at least one action taken (R2)."""
    if not draft.every_level_2:
        return None
    missing = []
    if not draft.actions & RESPONDER_ACTIONS:
        missing.append("who responded (m, t or o)")
    if not draft.actions - RESPONDER_ACTIONS:
        missing.append("at least one action taken")
    if not missing:
        return None
    return "A Level 2 needs " + " and ".join(missing) + "."


def action_bindings(prefix: str) -> list[BindingType]:
    """One hidden binding per action key (listed on screen and in help)."""
    return [
        Binding(
            key,
            f"toggle_action('{action.value}')",
            ACTION_LABELS[action],
            id=f"{prefix}.action_{action.value}",
            show=False,
            tooltip=f"Tick or untick: {ACTION_LABELS[action]}",
        )
        for action, key in ACTION_KEYS.items()
    ]


class LevelActionsScreen(Screen[LogResult | None]):
    """Choose the level and the actions taken, then save."""

    HELP = (
        "The advised level is already chosen; Left/Right changes it among the allowed levels. "
        "Press an action's key to tick it (Level 2-only actions need Level 2; a Title IX "
        "behavior takes no removal and no ISS). A Level 2 needs who responded (m mobile "
        "response, t support staff, o another adult) and at least one action; going above the "
        "advised level asks for a reason. Enter saves at once; d adds a location, time, "
        "motivation, others involved or a note first. If the advice says an earlier record "
        "lacks an intervention, a records one (reteaching, a monitored strategy, ...)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,ctrl+s", "save", "Save", id="level.save", tooltip="Save this record now"),
        Binding(
            "left",
            "level(-1)",
            "Lower level",
            id="level.down",
            show=False,
            tooltip="Choose the previous allowed level",
        ),
        Binding(
            "right",
            "level(1)",
            "Level",
            id="level.up",
            key_display="\N{LEFTWARDS ARROW}\N{RIGHTWARDS ARROW}",
            tooltip="Choose the next allowed level (left arrow: the previous one)",
        ),
        Binding(
            "d",
            "details",
            "Details",
            id="level.details",
            tooltip="Location, time (backdating), motivation, others involved, note",
        ),
        Binding(
            "a",
            "add_missing",
            "Add missing intervention",
            id="level.add_missing",
            tooltip="Record the intervention the earlier occurrence is missing",
        ),
        Binding(
            "h",
            "iss_length",
            "ISS half/full day",
            id="level.iss_length",
            show=False,
            tooltip="Switch the In-School Suspension between a full and a half day",
        ),
        Binding(
            "u",
            "removal_length",
            "Removal length",
            id="level.removal_length",
            show=False,
            tooltip="Change how long the removal from class lasts",
        ),
        Binding("escape", "back", "Back", id="level.back", tooltip="Back to the behaviors"),
        *action_bindings("level"),
    ]

    def __init__(self, draft: LogDraft) -> None:
        super().__init__()
        self.draft = draft

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def _level_choices(self) -> list[Choice]:
        choices = []
        if self.draft.advice_differs:
            choices.append(Choice("", "Each at their advised level", EACH_ADVISED))
        choices.extend(
            Choice("", level_words(level), level, "not allowed here") for level in (1, 2)
        )
        return choices

    def compose(self) -> ComposeResult:
        entry = self.draft.entry
        unverified = "" if entry.verified else " \N{MIDDLE DOT} grid not yet verified"
        yield Static(
            Content.assemble(("Log: ", "bold"), subject_line(self.draft.students), unverified),
            id="level-title",
            markup=False,
        )
        yield Static(
            Content.assemble(
                (one_line(entry.code), "bold"), "  ", literal(one_line(entry.behavior))
            ),
            id="level-behavior",
            markup=False,
        )
        notices = self._notices_text()
        yield Static(notices, id="level-notices", markup=False, classes="" if notices else "-empty")
        advice_box = VerticalScroll(id="level-advice-box")
        advice_box.can_focus = False
        with advice_box:
            yield Static(id="level-advice", markup=False)
        yield KeyedChoices(
            self._level_choices(),
            single=True,
            inline="Level (\N{LEFTWARDS ARROW}/\N{RIGHTWARDS ARROW}):  ",
            id="level-levels",
        )
        yield Static(
            Content.styled("Who responded (Level 2: at least one)", "bold"),
            id="level-responders-title",
        )
        yield KeyedChoices(action_choices(responders=True), id="level-responders")
        yield Static(
            Content.styled("Actions taken (press the key to tick)", "bold"),
            id="level-actions-title",
        )
        yield KeyedChoices(action_choices(), id="level-actions")
        yield Static(id="level-notes", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add_missing":
            return any(item.missing_intervention_for for item in self.draft.advice.values())
        if action == "iss_length":
            return Action.ISS in self.draft.actions
        if action == "removal_length":
            return Action.REMOVAL in self.draft.actions
        return True

    # -- showing the draft ------------------------------------------------------------------

    def _show(self) -> None:
        draft = self.draft
        self.query_one("#level-advice", Static).update(self._advice_text())
        allowed = set(draft.allowed_levels)
        chosen = EACH_ADVISED if draft.level is None else draft.level
        self.query_one("#level-levels", KeyedChoices).show(
            [chosen], [level for level in (1, 2) if level not in allowed]
        )
        unavailable = set() if draft.every_level_2 else set(LEVEL_2_ONLY_ACTIONS)
        if draft.entry.title_ix:
            unavailable |= TITLE_IX_BARRED_ACTIONS
        self.query_one("#level-actions", KeyedChoices).show(draft.actions, sorted(unavailable))
        self.query_one("#level-responders", KeyedChoices).show(draft.actions, sorted(unavailable))
        self.query_one("#level-notes", Static).update(self._notes_text())
        self.refresh_bindings()

    def _advice_text(self) -> Content:
        draft = self.draft
        lines: list[Content] = []
        for student in draft.students:
            advice = draft.advice[student.sourced_id]
            who = (
                Content.assemble(literal(student_name(student), "bold"), ": ")
                if len(draft.students) > 1
                else Content("")
            )
            lines.append(
                Content.assemble(
                    ("Advice: ", "bold"),
                    who,
                    f"{level_words(advice.advised_level)}. {advice.reason}",
                )
            )
        if any(item.missing_intervention_for for item in draft.advice.values()):
            lines.append(
                Content(
                    "Press a to record the missing intervention (reteaching, a monitored "
                    "strategy, ...) now. Going a level higher without it is recorded as a "
                    "bypass, with your reason."
                )
            )
        return Content("\n").join(lines)

    def _notices_text(self) -> Content:
        """R4: the grid's notices for this behavior, at any level, above everything else."""
        entry = self.draft.entry
        lines: list[Content] = []
        if entry.title_ix:
            lines.append(
                Content.assemble(
                    ("TITLE IX: ", "bold"),
                    TITLE_IX_NOTICE,
                    " No removal and no ISS until the Title IX process ends.",
                )
            )
        if entry.mandatory_reporting:
            lines.append(
                Content.assemble(("MANDATORY REPORTING: ", "bold"), MANDATORY_REPORTING_NOTICE)
            )
        if entry.review:
            lines.append(
                Content.assemble(("Under review: ", "bold"), literal(one_line(entry.review)))
            )
        return Content("\n").join(lines)

    def _notes_text(self) -> Content:
        draft = self.draft
        lines: list[Content] = []
        if Action.ISS in draft.actions:
            length = "a full day" if draft.iss_days >= ISS_FULL_DAY else "a half day"
            lines.append(Content(f"In-School Suspension length: {length} (h switches)."))
            lines.extend(
                Content.assemble(
                    literal(student_name(student), "bold"),
                    " has an IEP: on saving you will be asked about the three "
                    "safeguards; without all three this ISS is recorded as a removal "
                    "from class.",
                )
                for student in draft.students
                if student.iep
            )
        if Action.REMOVAL in draft.actions:
            lines.append(Content(f"Removal length: {draft.removal_minutes} minutes (u changes)."))
        details = []
        if draft.occurred_at is not None:
            details.append(
                "time "
                + draft.occurred_at.astimezone(self.classlog.store.timezone).strftime("%b %d %H:%M")
            )
        details.extend(
            value for value in (draft.location, draft.motivation, draft.others_involved) if value
        )
        if draft.note:
            details.append("note")
        if details:
            lines.append(Content("Details: " + ", ".join(details) + " (d to change)."))
        return Content("\n").join(lines)

    # -- changing the draft -----------------------------------------------------------------

    def action_level(self, step: int) -> None:
        draft = self.draft
        options: list[int | None] = [None] if draft.advice_differs else []
        options.extend(draft.allowed_levels)
        if not options:
            return
        position = options.index(draft.level) if draft.level in options else 0
        draft.level = options[max(0, min(len(options) - 1, position + step))]
        dropped = draft.drop_level_2_actions()
        if dropped:
            names = ", ".join(ACTION_LABELS[action] for action in dropped)
            self.notify(f"Unticked (Level 2 only): {names}", markup=False)
        self._show()

    @on(KeyedChoices.Clicked, "#level-levels")
    def _level_clicked(self, event: KeyedChoices.Clicked) -> None:
        value = event.value
        if value == EACH_ADVISED:
            self.draft.level = None
        elif value in self.draft.allowed_levels:
            self.draft.level = value if isinstance(value, int) else None
        else:
            self.notify(f"{level_words(int(str(value)))} is not allowed for this behavior.")
            return
        self.draft.drop_level_2_actions()
        self._show()

    def action_toggle_action(self, value: str) -> None:
        action = Action(value)
        draft = self.draft
        if action in draft.actions:
            draft.actions.discard(action)
        elif draft.entry.title_ix and action in TITLE_IX_BARRED_ACTIONS:
            self.notify(
                f"{ACTION_LABELS[action]}: not for a Title IX behavior. No removal and no ISS "
                "until the Title IX process ends.",
                markup=False,
            )
            return
        elif action in LEVEL_2_ONLY_ACTIONS and not draft.every_level_2:
            hint = (
                "press \N{RIGHTWARDS ARROW} for Level 2 first"
                if 2 in draft.allowed_levels
                else "this behavior is not allowed at Level 2"
            )
            self.notify(f"{ACTION_LABELS[action]} is a Level 2 action: {hint}.", markup=False)
            return
        else:
            draft.actions.add(action)
        self._show()

    @on(KeyedChoices.Clicked, "#level-actions, #level-responders")
    def _action_clicked(self, event: KeyedChoices.Clicked) -> None:
        if isinstance(event.value, Action):
            self.action_toggle_action(event.value.value)

    def action_iss_length(self) -> None:
        draft = self.draft
        draft.iss_days = ISS_HALF_DAY if draft.iss_days >= ISS_FULL_DAY else ISS_FULL_DAY
        self._show()

    def action_removal_length(self) -> None:
        draft = self.draft
        later = [minutes for minutes in REMOVAL_LENGTHS if minutes > draft.removal_minutes]
        draft.removal_minutes = later[0] if later else REMOVAL_LENGTHS[0]
        self._show()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_details(self) -> None:
        from tui.log.details import DetailsScreen

        self.app.push_screen(DetailsScreen(self.draft), self._details_done)

    def _details_done(self, details: Details | None) -> None:
        if details is None:
            return
        draft = self.draft
        draft.occurred_at = details.occurred_at
        draft.location = details.location
        draft.motivation = details.motivation
        draft.others_involved = details.others_involved
        draft.note = details.note
        self._show()
        if details.save:
            self.action_save()

    @work(exclusive=True, group="missing-intervention")
    async def action_add_missing(self) -> None:
        from tui.log.dialogs import AddInterventionScreen

        store = self.classlog.store
        draft = self.draft
        for student in draft.students:
            earlier_id = draft.advice[student.sourced_id].missing_intervention_for
            if earlier_id is None:
                continue
            earlier = store.incident(earlier_id)
            kind = await self.app.push_screen_wait(
                AddInterventionScreen(earlier, student_name(student), store.timezone)
            )
            if kind is None:
                return
            try:
                recorded = store.add_intervention(
                    InterventionDraft(
                        student_id=student.sourced_id,
                        behavior_code=draft.entry.code,
                        kind=kind,
                        incident_id=earlier_id,
                    )
                )
                _, draft.advice[student.sourced_id] = store.advice(
                    student.sourced_id, draft.entry.code
                )
            except StoreError as error:
                self.classlog.report_error(error)
                return
            self.notify(
                f"{INTERVENTION_LABELS[kind]} recorded for the {level_words(earlier.level)} of "
                f"{short_day(earlier.occurred_at, store.timezone)}, review on "
                f"{recorded.review_on.strftime('%b %d')}.",
                title="Saved",
                markup=False,
            )
        advised = {item.advised_level for item in draft.advice.values()}
        draft.level = advised.pop() if len(advised) == 1 else None
        draft.drop_level_2_actions()
        self._show()

    # -- saving -----------------------------------------------------------------------------

    @work(exclusive=True, group="save")
    async def action_save(self) -> None:
        from tui.log.dialogs import BypassScreen, SafeguardsScreen

        draft = self.draft
        if not draft.allowed_levels:
            self.notify("These students cannot be logged together for this behavior.")
            return
        missing = level_2_missing(draft)
        if missing is not None:
            self.notify(missing, title="Not saved yet", severity="warning", markup=False)
            return
        for student in draft.needing_safeguards():
            safeguards = await self.app.push_screen_wait(SafeguardsScreen(student))
            if safeguards is None:
                return
            draft.safeguards[student.sourced_id] = safeguards
        bypassing = draft.bypassing()
        above = [student for student in draft.above_advised() if student not in bypassing]
        if (bypassing or above) and not draft.bypass_reason:
            reason = await self.app.push_screen_wait(
                BypassScreen(
                    [student_name(student) for student in bypassing],
                    above_advised=[student_name(student) for student in above],
                )
            )
            if reason is None:
                return
            draft.bypass_reason = reason
        try:
            saved = save_draft(self.classlog.store, draft)
        except StoreError as error:
            message = refusal_words(error, draft.students)
            if len(draft.students) > 1:
                message += f" (nothing was saved for the {len(draft.students)} students)"
            self.notify(
                message,
                title="Not saved",
                severity="error",
                markup=False,
                timeout=10,
            )
            return
        self.dismiss(LogResult(saved, describe(saved, self.classlog.directory)))
