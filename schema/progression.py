"""Progression advice (R5), per student and behavior, inside one school year.

- A first occurrence is answered at the lowest allowed level.
- A behavior allowed at 1 and 2 may be answered at 2 directly: choosing 2 is not a bypass.
- A repeat may go one level higher than the previous occurrence only if an intervention was
  recorded for that earlier occurrence; otherwise the app asks for it, and going higher anyway is
  recorded as a bypass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PriorOccurrence:
    incident_id: str
    level: int
    occurred_at: datetime
    had_intervention: bool


@dataclass(frozen=True, slots=True)
class Advice:
    advised_level: int
    allowed_levels: tuple[int, ...]
    reason: str
    prior_count: int
    missing_intervention_for: str | None = None
    """The earlier occurrence that needs an intervention recorded before moving up."""
    previous_level: int | None = None

    def is_bypass(self, chosen_level: int) -> bool:
        """Escalating above the previous occurrence without its intervention on record."""
        return (
            self.missing_intervention_for is not None
            and self.previous_level is not None
            and chosen_level > self.previous_level
        )


def _ordinal(count: int) -> str:
    suffix = "th" if 10 <= count % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
    return f"{count}{suffix}"


def advise(allowed_levels: Sequence[int], prior: Sequence[PriorOccurrence]) -> Advice:
    """Advice for the next occurrence, given the staff-loggable levels and earlier occurrences of
    the same behavior by the same student in the same school year (any order)."""
    previous = (
        max(prior, key=lambda occurrence: (occurrence.occurred_at, occurrence.incident_id))
        if prior
        else None
    )
    return advise_after(allowed_levels, len(prior), previous)


def advise_after(
    allowed_levels: Sequence[int], prior_count: int, previous: PriorOccurrence | None
) -> Advice:
    """The same advice from what it depends on: how many earlier occurrences there are and the
    latest of them (so a store can find both with two indexed reads, whatever the history's
    length)."""
    allowed = tuple(sorted(set(allowed_levels)))
    if not allowed:
        raise ValueError("no staff-loggable level for this behavior")
    lowest, highest = allowed[0], allowed[-1]
    if previous is None or prior_count == 0:
        return Advice(
            advised_level=lowest,
            allowed_levels=allowed,
            reason=f"First occurrence this school year: Level {lowest}, the lowest allowed.",
            prior_count=0,
        )
    occurrence = _ordinal(prior_count + 1)
    when = previous.occurred_at.strftime("%b %d")
    if not previous.had_intervention and previous.level < highest:
        return Advice(
            advised_level=max(previous.level, lowest),
            allowed_levels=allowed,
            reason=(
                f"{occurrence} occurrence this school year. Record an intervention for the "
                f"Level {previous.level} on {when} before answering one level higher."
            ),
            prior_count=prior_count,
            missing_intervention_for=previous.incident_id,
            previous_level=previous.level,
        )
    advised = min(max(previous.level + 1, lowest), highest)
    if advised > previous.level:
        reason = (
            f"{occurrence} occurrence this school year; the Level {previous.level} on {when} "
            f"had an intervention: Level {advised}."
        )
    else:
        reason = (
            f"{occurrence} occurrence this school year; Level {previous.level} on {when} is the "
            f"highest staff level for this behavior."
        )
    return Advice(
        advised_level=advised,
        allowed_levels=allowed,
        reason=reason,
        prior_count=prior_count,
        previous_level=previous.level,
    )
