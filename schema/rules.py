"""The plan's rules on one record, checked the same way by the device and the district server.

Each rule has a short name (the one a refused push or correction reports) and one sentence a
person reads. The device applies them before it saves; the server re-checks them on every push
and every administrator's correction, because a device can be out of date or wrong (invariant 8).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from schema.errors import UserError
from schema.grid import GridEntry
from schema.models import (
    LEVEL_2_ONLY_ACTIONS,
    TITLE_IX_BARRED_ACTIONS,
    Action,
    IssSafeguards,
)

MAX_ISS_DAYS = 1.0
MAX_REMOVAL_MINUTES = 24 * 60

RULE_WORDS: dict[str, str] = {
    "grid-level": "the level is not one the grid allows for this behavior, grade and school year",
    "office-managed": "the behavior is office-managed (Level 3 or higher): staff do not log it",
    "level-2-only-action": "support staff, removal and ISS belong to Level 2 records only",
    "iss-length": "an In-School Suspension lasts at most one day",
    "iep-safeguards": "an ISS for a student with an IEP needs all three safeguards, or it is a "
    "removal",
    "removal-duration": "every removal has a duration",
    "title-ix-sanction": "a Title IX behavior takes no removal and no ISS until the Title IX "
    "process ends",
    "tab-never-iss": "a Take a Break is a support: never an ISS or a removal",
    "known-action": "every action is one the plan names",
    "office-referral": "only a behavior the office handles (its range reaches Level 3 or higher) "
    "is sent to the office",
    "referral-level": "the office's level is 3, 4 or 5 and one the grid allows for this behavior",
    "oss-days": "the days of Out-of-School Suspension fit the level (Level 3: 1-3, Level 4: "
    "3-5, Level 5: 5), or none when an alternative to suspension replaced it",
    "intervention-kind": "the district's own intervention needs its name",
    "intervention-dates": "an intervention's review date comes on or after its start",
}

OSS_DAYS_BY_LEVEL: dict[int, tuple[float, float]] = {3: (1.0, 3.0), 4: (3.0, 5.0), 5: (5.0, 5.0)}
"""The plan's days of Out-of-School Suspension at each office level (Levels 3-5), unless
Alternatives to Suspension replace it."""


class RuleViolation(UserError):
    """A record breaks one of the plan's rules; ``rule`` names it."""

    def __init__(self, rule: str, detail: str = "") -> None:
        self.rule = rule
        self.detail = detail
        words = RULE_WORDS[rule]
        super().__init__(f"{rule}: {detail or words}")


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the rules look at in an intervention record."""

    level: int
    actions: tuple[Action, ...]
    iss_days: float | None
    removal_minutes: int | None
    iss_recorded_as_removal: bool
    iss_safeguards: IssSafeguards | None
    student_has_iep: bool


def check_incident(entry: GridEntry, facts: IncidentFacts) -> None:
    """Raise RuleViolation for the first rule this Level 1 or 2 record breaks."""
    if entry.office_managed or not entry.staff_levels:
        raise RuleViolation("office-managed", f"{entry.code} is office-managed")
    if facts.level not in entry.staff_levels:
        allowed = " or ".join(str(level) for level in entry.staff_levels)
        raise RuleViolation(
            "grid-level", f"{entry.code} cannot be logged at Level {facts.level}: allowed {allowed}"
        )
    check_actions(entry, facts)


def check_actions(entry: GridEntry, facts: IncidentFacts) -> None:
    """The rules on the actions of a record whose level is already allowed."""
    actions = set(facts.actions)
    if facts.level != 2:
        level_2_only = sorted(action.value for action in actions & LEVEL_2_ONLY_ACTIONS)
        if level_2_only:
            raise RuleViolation(
                "level-2-only-action",
                f"{', '.join(level_2_only)}: Level 2 actions cannot be part of a Level 1 record",
            )
    if entry.title_ix and actions & TITLE_IX_BARRED_ACTIONS:
        raise RuleViolation(
            "title-ix-sanction",
            f"{entry.code} is a Title IX behavior: no removal and no ISS until the Title IX "
            "process ends (contact the Title IX Coordinator)",
        )
    was_iss = Action.ISS in actions or facts.iss_recorded_as_removal
    if was_iss and facts.iss_days is not None and not 0 < facts.iss_days <= MAX_ISS_DAYS:
        raise RuleViolation("iss-length", f"an ISS of {facts.iss_days:g} days: at most one day")
    if (
        Action.ISS in actions
        and not facts.iss_recorded_as_removal
        and facts.student_has_iep
        and not (facts.iss_safeguards and facts.iss_safeguards.complete)
    ):
        raise RuleViolation("iep-safeguards")
    if Action.REMOVAL in actions:
        has_length = (
            facts.iss_days is not None
            if facts.iss_recorded_as_removal
            else facts.removal_minutes is not None
        )
        if not has_length:
            raise RuleViolation(
                "removal-duration", "a removal needs its length in minutes (or the ISS's days)"
            )
        if facts.removal_minutes is not None and not (
            0 < facts.removal_minutes <= MAX_REMOVAL_MINUTES
        ):
            raise RuleViolation(
                "removal-duration", f"a removal of {facts.removal_minutes} minutes is not a length"
            )


def parse_actions(values: Iterable[object]) -> tuple[Action, ...]:
    """Actions from wire values; an unknown one is a broken rule, not a crash."""
    actions: list[Action] = []
    for value in values:
        try:
            actions.append(Action(str(value)))
        except ValueError as error:
            raise RuleViolation("known-action", f"unknown action {value!r}") from error
    return tuple(actions)


def check_referral(entry: GridEntry) -> None:
    """R4, R10: a referral is for a behavior the office handles (its range reaches Level 3)."""
    if entry.levels[-1] < 3:
        raise RuleViolation(
            "office-referral",
            f"{entry.code} is answered by staff at Level 1 or 2, not by the office",
        )


def check_decision(
    entry: GridEntry, level: int, oss_days: float, alternatives: Iterable[str]
) -> None:
    """R10: the office's decision on a referral for ``entry``: a level the grid allows at 3-5,
    and days of OSS the plan names for it (none only when an alternative was offered)."""
    if level not in OSS_DAYS_BY_LEVEL or level not in entry.levels:
        allowed = [each for each in entry.levels if each in OSS_DAYS_BY_LEVEL]
        words = " or ".join(str(each) for each in allowed) or "none (staff-managed)"
        raise RuleViolation(
            "referral-level",
            f"{entry.code} cannot be decided at Level {level}: the grid allows {words}",
        )
    low, high = OSS_DAYS_BY_LEVEL[level]
    offered = [text for text in alternatives if text.strip()]
    if oss_days == 0 and offered:
        return
    if not low <= oss_days <= high:
        span = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        raise RuleViolation(
            "oss-days",
            f"{oss_days:g} days of OSS at Level {level}: the plan says {span}"
            + ("" if offered else ", or 0 with an alternative to suspension offered"),
        )


def check_intervention(kind: str, kind_label: str, starts_on: date, review_on: date) -> None:
    """R5: the district's own kind carries its name; the review is not before the start."""
    if kind == "district" and not kind_label.strip():
        raise RuleViolation("intervention-kind")
    if review_on < starts_on:
        raise RuleViolation(
            "intervention-dates",
            f"review on {review_on.isoformat()} comes before the start on {starts_on.isoformat()}",
        )
