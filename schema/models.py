"""Pydantic models of the device's records and roster; the plan's fixed vocabularies (defined in
``schema.vocabulary``) are re-exported here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from schema.vocabulary import (
    ACTION_LABELS,
    FOLLOW_UP_LABELS,
    LEVEL_2_ONLY_ACTIONS,
    LOCATIONS,
    MOTIVATIONS,
    OTHERS_INVOLVED,
    TAB_KIND_LABELS,
    Action,
    FollowUpKind,
    StartedBy,
    TabKind,
)

__all__ = [
    "ACTION_LABELS",
    "FOLLOW_UP_LABELS",
    "LEVEL_2_ONLY_ACTIONS",
    "LOCATIONS",
    "MOTIVATIONS",
    "OTHERS_INVOLVED",
    "TAB_KIND_LABELS",
    "Action",
    "AuditEntry",
    "AwareDatetime",
    "FollowUp",
    "FollowUpKind",
    "Incident",
    "IncidentDraft",
    "IssSafeguards",
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


def required_follow_ups(actions: list[Action]) -> list[FollowUpKind]:
    """R6, the plan's minimum follow-ups. After support or redirection: contact the family and
    give corrective feedback. After an ISS: contact the family, hear the student's version (due
    process) and make a repair-and-reflection plan. A record with both gets both."""
    required = [FollowUpKind.FAMILY_CONTACT]
    if Action.ISS not in actions or any(action is not Action.ISS for action in actions):
        required.append(FollowUpKind.CORRECTIVE_FEEDBACK)
    if Action.ISS in actions:
        required += [FollowUpKind.STUDENT_VERSION, FollowUpKind.REPAIR_PLAN]
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
    iss_safeguards: IssSafeguards | None = None
    group_id: str | None = None
    bypass_reason: str | None = None

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
    done_at: datetime | None = None
    done_by: str | None = None
    note: str = ""
    voided_at: datetime | None = None
    origin: str = "local"


class AuditEntry(Record):
    id: int
    entity: str
    entity_id: str
    action: str
    changes: dict[str, Any]
    at: datetime
    staff_id: str | None
    hlc: str
