"""Pydantic models of the device's records and roster; the plan's fixed vocabularies (defined in
``schema.vocabulary``) are re-exported here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from schema.vocabulary import (
    ACTION_LABELS,
    FOLLOW_UP_DUE_SCHOOL_DAYS,
    FOLLOW_UP_LABELS,
    INTERVENTION_LABELS,
    INTERVENTION_REVIEW_DAYS,
    LEVEL_2_ONLY_ACTIONS,
    LOCATIONS,
    MOTIVATIONS,
    OTHERS_INVOLVED,
    RESPONDER_ACTIONS,
    TAB_KIND_LABELS,
    TITLE_IX_BARRED_ACTIONS,
    Action,
    FollowUpKind,
    InterventionKind,
    StartedBy,
    TabKind,
)

__all__ = [
    "ACTION_LABELS",
    "FOLLOW_UP_DUE_SCHOOL_DAYS",
    "FOLLOW_UP_LABELS",
    "INTERVENTION_LABELS",
    "INTERVENTION_REVIEW_DAYS",
    "LEVEL_2_ONLY_ACTIONS",
    "LOCATIONS",
    "MOTIVATIONS",
    "OTHERS_INVOLVED",
    "RESPONDER_ACTIONS",
    "TAB_KIND_LABELS",
    "TITLE_IX_BARRED_ACTIONS",
    "Action",
    "AuditEntry",
    "AwareDatetime",
    "FollowUp",
    "FollowUpKind",
    "Incident",
    "IncidentDraft",
    "Intervention",
    "InterventionDraft",
    "InterventionKind",
    "IssSafeguards",
    "OfficeReferral",
    "Org",
    "Record",
    "Section",
    "Staff",
    "StartedBy",
    "Student",
    "TabEvent",
    "TabKind",
    "required_follow_ups",
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time must carry a time zone")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Record(BaseModel):
    """Base of the device's models. Validators are built on first use, not at import, so the
    teacher's screen starts fast."""

    model_config = ConfigDict(defer_build=True)


def required_follow_ups(
    actions: list[Action], *, title_ix: bool = False, iss_as_removal: bool = False
) -> list[FollowUpKind]:
    """R6, the plan's minimum follow-ups. After support or redirection: contact the family and
    give corrective feedback. After an ISS: contact the family, hear the student's version (due
    process) and make a repair-and-reflection plan; an ISS recorded as a removal (R7) keeps them.
    A record with both gets both. A Title IX behavior (R4) also needs the Title IX Coordinator
    contacted."""
    was_iss = Action.ISS in actions or (iss_as_removal and Action.REMOVAL in actions)
    required = [FollowUpKind.FAMILY_CONTACT]
    if not was_iss or any(action not in {Action.ISS, Action.REMOVAL} for action in actions):
        required.append(FollowUpKind.CORRECTIVE_FEEDBACK)
    if was_iss:
        required += [FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN]
    if title_ix:
        required.append(FollowUpKind.TITLE_IX_COORDINATOR)
    return required


class IssSafeguards(Record):
    """R7: an ISS for a student with an IEP needs all three, or it is recorded as a removal."""

    model_config = ConfigDict(frozen=True)

    school_work: bool = False
    special_education_services: bool = False
    peer_without_disability: bool = False

    @property
    def complete(self) -> bool:
        return self.school_work and self.special_education_services and self.peer_without_disability


class Org(Record):
    sourced_id: str
    name: str
    type: str = "school"


class Staff(Record):
    sourced_id: str
    given_name: str
    family_name: str
    role: str
    school_id: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class Student(Record):
    """The minimum a device holds (R8): name, grade, sections, IEP flag."""

    sourced_id: str
    given_name: str
    family_name: str
    grade: str = ""
    iep: bool = False
    school_id: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class Section(Record):
    sourced_id: str
    title: str
    school_id: str | None = None
    periods: str = ""
    course_title: str = ""


class IncidentDraft(Record):
    """What a person enters to log an intervention; the store fills in the rest."""

    model_config = ConfigDict(extra="forbid")

    student_id: str = Field(min_length=1)
    behavior_code: str = Field(min_length=1)
    level: int = Field(ge=1, le=2)
    actions: list[Action] = Field(default_factory=list)
    occurred_at: AwareDatetime | None = None
    location: str | None = None
    motivation: str | None = None
    others_involved: str | None = None
    note: str = Field(default="", max_length=4000)
    iss_days: float | None = Field(default=None, gt=0, le=1)
    removal_minutes: int | None = Field(default=None, gt=0, le=24 * 60)
    iss_safeguards: IssSafeguards | None = None
    group_id: str | None = None
    bypass_reason: str | None = Field(default=None, max_length=500)

    @field_validator("actions")
    @classmethod
    def _unique_actions(cls, actions: list[Action]) -> list[Action]:
        return list(dict.fromkeys(actions))


class Incident(Record):
    """A Level 1 or Level 2 intervention as stored on a device."""

    id: str
    student_id: str
    staff_id: str
    device_id: str
    behavior_code: str
    level: int
    actions: list[Action]
    occurred_at: datetime
    tz: str
    location: str | None = None
    motivation: str | None = None
    others_involved: str | None = None
    note: str = ""
    iss_days: float | None = None
    removal_minutes: int | None = None
    iss_safeguards: IssSafeguards | None = None
    iss_recorded_as_removal: bool = False
    advised_level: int | None = None
    progression_bypassed: bool = False
    bypass_reason: str | None = None
    group_id: str | None = None
    created_at: datetime
    updated_at: datetime
    voided_at: datetime | None = None
    void_reason: str | None = None
    origin: str = "local"

    @property
    def is_iss(self) -> bool:
        return Action.ISS in self.actions

    @property
    def is_removal(self) -> bool:
        return Action.REMOVAL in self.actions


class TabEvent(Record):
    id: str
    student_id: str
    staff_id: str
    device_id: str
    kind: TabKind
    started_by: StartedBy
    started_at: datetime
    ended_at: datetime | None = None
    returned_ready: bool | None = None
    reflection: str | None = None
    incident_id: str | None = None
    note: str = ""
    tz: str = "UTC"
    voided_at: datetime | None = None
    void_reason: str | None = None
    origin: str = "local"

    @property
    def minutes(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds() / 60


class FollowUp(Record):
    id: str
    incident_id: str
    kind: FollowUpKind
    created_at: datetime
    due_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    note: str = ""
    voided_at: datetime | None = None
    origin: str = "local"

    def is_overdue(self, now: datetime) -> bool:
        """Open (not done, not closed) past its due date (R6)."""
        return (
            self.done_at is None
            and self.voided_at is None
            and self.due_at is not None
            and now > self.due_at
        )


class InterventionDraft(Record):
    """What a person enters to record an intervention for a student (and a behavior, or all)."""

    model_config = ConfigDict(extra="forbid")

    student_id: str = Field(min_length=1)
    behavior_code: str | None = Field(default=None, min_length=1)
    """None: the intervention addresses all of the student's behaviors."""
    kind: InterventionKind
    kind_label: str = Field(default="", max_length=200)
    """The district's own kind's name (kind ``district``)."""
    starts_on: date | None = None
    review_on: date | None = None
    incident_id: str | None = None
    """The occurrence it answers, when recorded from progression advice."""
    note: str = Field(default="", max_length=4000)


class Intervention(Record):
    id: str
    student_id: str
    behavior_code: str | None
    kind: InterventionKind
    kind_label: str = ""
    starts_on: date
    review_on: date
    staff_id: str
    device_id: str
    incident_id: str | None = None
    note: str = ""
    created_at: datetime
    updated_at: datetime
    voided_at: datetime | None = None
    void_reason: str | None = None
    origin: str = "local"

    @property
    def label(self) -> str:
        if self.kind is InterventionKind.DISTRICT and self.kind_label:
            return self.kind_label
        return INTERVENTION_LABELS[self.kind]


class OfficeReferral(Record):
    """R10: a student sent to the office for an office-managed behavior (what SWIS calls a major
    referral). The office's decision (level, days of OSS, alternatives offered) is recorded by
    an administrator."""

    id: str
    student_id: str
    behavior_code: str
    occurred_at: datetime
    tz: str
    location: str | None = None
    staff_id: str
    device_id: str
    note: str = ""
    decided_level: int | None = None
    oss_days: float | None = None
    alternatives: list[str] | None = None
    """Alternatives to suspension the office offered."""
    decided_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    voided_at: datetime | None = None
    void_reason: str | None = None
    origin: str = "local"

    @property
    def decision_words(self) -> str:
        """The office's decision in one line, or that it has not come back yet."""
        return decision_words(self.decided_level, self.oss_days, self.alternatives)


def decision_words(
    level: int | None, oss_days: float | None, alternatives: Sequence[str] | None
) -> str:
    """An office referral's decision in one line (R10)."""
    if level is None:
        return "waiting for the office's decision"
    days = oss_days or 0
    words = f"Level {level}: " + (
        f"{days:g} day{'s' if days != 1 else ''} of OSS" if days else "no OSS"
    )
    if alternatives:
        words += "; alternatives to suspension offered: " + ", ".join(alternatives)
    return words


class AuditEntry(Record):
    id: int
    entity: str
    entity_id: str
    action: str
    changes: dict[str, Any]
    at: datetime
    staff_id: str | None
    hlc: str
