"""What the teacher has chosen so far in the log flow, and how it is saved.

The draft is plain data handed down the flow's screens; only :func:`save_draft` writes, through
``DeviceStore.log_incidents``: every student's record in one transaction, or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from textual.content import Content

from schema.grid import GridEntry
from schema.ids import new_id
from schema.models import LEVEL_2_ONLY_ACTIONS, Action, Incident, IncidentDraft, IssSafeguards
from schema.progression import Advice
from schema.rows import StudentRow
from schema.store import DeviceStore, StoreError
from tui.formatting import action_words, level_words, student_name
from tui.text import literal

ISS_HALF_DAY = 0.5
ISS_FULL_DAY = 1.0
REMOVAL_LENGTHS = (15, 30, 45, 60, 90, 120, 180)
"""The removal lengths (minutes) the level screen cycles through; every removal has one (R7)."""


@dataclass
class LogDraft:
    students: list[StudentRow]
    entry: GridEntry
    advice: dict[str, Advice]
    level: int | None = None
    """The level for every student; None means each at their own advised level."""
    actions: set[Action] = field(default_factory=set)
    iss_days: float = ISS_FULL_DAY
    removal_minutes: int = 30
    safeguards: dict[str, IssSafeguards] = field(default_factory=dict)
    bypass_reason: str | None = None
    occurred_at: datetime | None = None
    location: str | None = None
    motivation: str | None = None
    others_involved: str | None = None
    note: str = ""

    @classmethod
    def start(
        cls, students: list[StudentRow], entry: GridEntry, advice: dict[str, Advice]
    ) -> LogDraft:
        draft = cls(students, entry, advice)
        advised = {item.advised_level for item in advice.values()}
        draft.level = advised.pop() if len(advised) == 1 else None
        return draft

    @property
    def allowed_levels(self) -> tuple[int, ...]:
        """Levels every student in the draft may be logged at."""
        common = set(self.entry.staff_levels)
        for item in self.advice.values():
            common &= set(item.allowed_levels)
        return tuple(sorted(common))

    @property
    def advice_differs(self) -> bool:
        return len({item.advised_level for item in self.advice.values()}) > 1

    def level_for(self, student: StudentRow) -> int:
        if self.level is not None:
            return self.level
        return self.advice[student.sourced_id].advised_level

    @property
    def every_level_2(self) -> bool:
        return all(self.level_for(student) == 2 for student in self.students)

    def drop_level_2_actions(self) -> list[Action]:
        """Take Level 2-only actions off the draft when it is no longer all Level 2."""
        if self.every_level_2:
            return []
        dropped = sorted(self.actions & LEVEL_2_ONLY_ACTIONS)
        self.actions -= LEVEL_2_ONLY_ACTIONS
        return dropped

    def needing_safeguards(self) -> list[StudentRow]:
        """Students with an IEP for whom an ISS is chosen and the R7 questions not yet asked."""
        if Action.ISS not in self.actions:
            return []
        return [
            student
            for student in self.students
            if student.iep and student.sourced_id not in self.safeguards
        ]

    def bypassing(self) -> list[StudentRow]:
        """Students who would go up a level without the earlier intervention on record (R5)."""
        return [
            student
            for student in self.students
            if self.advice[student.sourced_id].is_bypass(self.level_for(student))
        ]

    def above_advised(self) -> list[StudentRow]:
        """Students logged at a level higher than the one advised (a reason is asked)."""
        return [
            student
            for student in self.students
            if self.level_for(student) > self.advice[student.sourced_id].advised_level
        ]

    def incident_drafts(self) -> list[IncidentDraft]:
        group_id = new_id() if len(self.students) > 1 else None
        ordered = [action for action in Action if action in self.actions]
        drafts = []
        for student in self.students:
            advice = self.advice[student.sourced_id]
            level = self.level_for(student)
            bypass = advice.is_bypass(level) or level > advice.advised_level
            drafts.append(
                IncidentDraft(
                    student_id=student.sourced_id,
                    behavior_code=self.entry.code,
                    level=self.level_for(student),
                    actions=ordered,
                    occurred_at=self.occurred_at,
                    location=self.location,
                    motivation=self.motivation,
                    others_involved=self.others_involved,
                    note=self.note,
                    iss_days=self.iss_days if Action.ISS in self.actions else None,
                    removal_minutes=self.removal_minutes
                    if Action.REMOVAL in self.actions
                    else None,
                    iss_safeguards=self.safeguards.get(student.sourced_id),
                    group_id=group_id,
                    bypass_reason=self.bypass_reason if bypass else None,
                )
            )
        return drafts


@dataclass(frozen=True)
class LogResult:
    """What was saved: returned up the flow once ``log_incidents`` has committed."""

    incidents: list[Incident]
    summary: Content


def describe(incidents: list[Incident], students: dict[str, StudentRow]) -> Content:
    """One line saying what was saved, names shown literally."""
    first = incidents[0]
    if len(incidents) == 1:
        who = literal(student_name(students.get(first.student_id), first.student_id))
    else:
        who = Content(f"{len(incidents)} students")
    levels = sorted({incident.level for incident in incidents})
    level_text = " and ".join(level_words(level) for level in levels)
    text = Content.assemble(
        f"{level_text} \N{MIDDLE DOT} {first.behavior_code} \N{MIDDLE DOT} ",
        who,
        f" \N{MIDDLE DOT} {action_words(first.actions)}",
    )
    removals = [incident for incident in incidents if incident.iss_recorded_as_removal]
    if removals:
        text = text.append(" \N{MIDDLE DOT} ISS recorded as a removal (safeguards missing)")
    return text


def save_draft(store: DeviceStore, draft: LogDraft) -> list[Incident]:
    """Log one record per student in one transaction: all of them, or none when the store
    refuses any one (``StoreError``, see :func:`refusal_words`)."""
    return store.log_incidents(draft.incident_drafts())


def refusal_words(error: StoreError, students: Sequence[StudentRow]) -> str:
    """The store's refusal, naming the student: a save for several students is refused with the
    student's id in front of the reason, which is shown as their name instead."""
    message = str(error)
    for student in students:
        prefix = f"{student.sourced_id}: "
        if message.startswith(prefix):
            return f"{student_name(student)}: {message.removeprefix(prefix)}"
    if len(students) == 1:
        return f"{student_name(students[0])}: {message}"
    return message
