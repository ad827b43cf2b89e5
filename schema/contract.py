"""The record contract: one pydantic model per syncable kind.

A record kind's model says which fields it has, what each may hold and how it is stored. Every
field is optional in the model (an update carries only the fields it sets: patch semantics) and
never null unless its annotation allows it; ``required_on_create`` names what a new record must
carry so that every device can hold it. The device's row conversion, the wire's ``fields``, the
server's typed tables and the exports' columns all come from these models (``schema.fields``
mirrors names and storage shapes for the device's start-up path; a test keeps them equal).

Validation runs with an optional context: ``{"behavior_codes": {...}}`` makes a behavior code
outside the grid an error (the server passes its grid's codes; a device checks against its own
grid where it has one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)

from schema.errors import UserError
from schema.fields import REQUIRED_ON_CREATE, SAFEGUARDS, Shape
from schema.models import Action, FollowUpKind, InterventionKind, StartedBy, TabKind

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Times outside this range are refused: no record of this plan happened before 2000 or after
2100, and a year-9999 time breaks every report's date arithmetic."""
MAX_NOTE_CHARS = 4000
MAX_SHORT_TEXT_CHARS = 500
MAX_ID_CHARS = 255
MAX_LEVEL = 5
MAX_REQUEST_NOTE_CHARS = 140
"""A support request's note: one short line."""
MAX_REQUEST_STUDENTS = 40
MAX_OSS_DAYS = 5.0
"""The plan's longest Out-of-School Suspension (Level 5: five days)."""
MAX_ALTERNATIVES = 10


@dataclass(frozen=True)
class Stored:
    """How a field is stored (see ``schema.fields`` for the shapes)."""

    shape: Shape


class ContractError(UserError, ValueError):
    """Fields that break the contract, described in one line."""


def canonical_moment(moment: datetime) -> str:
    """The one text form of a time on the wire and on devices: UTC, milliseconds."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")


MOMENT_EXPECTED = "must be a date-time with a time zone (ISO 8601)"


def _moment_input(value: Any) -> datetime:
    if isinstance(value, str) and len(value) <= 64:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(MOMENT_EXPECTED) from None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(MOMENT_EXPECTED)
    return value


def _sane_moment(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return value.astimezone(UTC)


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


def is_zone_name(value: str) -> bool:
    """Whether ``value`` is an IANA time zone name this machine knows (never a path)."""
    if len(value) > 64 or not _ZONE_NAME.match(value):
        return False
    if value != "UTC" and value not in _zone_names():
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zone(value: str) -> str:
    if not is_zone_name(value):
        raise ValueError("must be an IANA time zone name such as America/Chicago")
    return value


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _identifier(value: str) -> str:
    if value.strip() != value:
        raise ValueError("must not start or end with white space")
    return _clean_text(value)


def _known_code(value: str, info: ValidationInfo) -> str:
    context = info.context
    codes = context.get("behavior_codes") if isinstance(context, Mapping) else None
    if codes is not None and value not in codes:
        raise ValueError(f"{value!r} is not a behavior code of the grid")
    return value


def _unique_actions(actions: list[Action]) -> list[Action]:
    return list(dict.fromkeys(actions))


Identifier = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=MAX_ID_CHARS),
    AfterValidator(_identifier),
    Stored("id"),
]
BehaviorCode = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Z][A-Z0-9-]*$"),
    AfterValidator(_known_code),
    Stored("code"),
]
Note = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=MAX_NOTE_CHARS),
    AfterValidator(_clean_text),
    Stored("text"),
]
ShortText = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=MAX_SHORT_TEXT_CHARS),
    AfterValidator(_clean_text),
    Stored("text"),
]
Moment = Annotated[
    datetime,
    BeforeValidator(_moment_input),
    AfterValidator(_sane_moment),
    PlainSerializer(canonical_moment, return_type=str),
    Stored("moment"),
]
Zone = Annotated[str, Strict(), AfterValidator(_zone), Stored("zone")]
Level = Annotated[int, Strict(), Field(ge=1, le=2), Stored("int")]
AdvisedLevel = Annotated[int, Strict(), Field(ge=1, le=MAX_LEVEL), Stored("int")]
IssDays = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), Stored("float")]
RemovalMinutes = Annotated[int, Strict(), Field(gt=0, le=24 * 60), Stored("int")]
Flag = Annotated[bool, Strict(), Stored("bool")]
Day = Annotated[date, Stored("date")]
OfficeLevel = Annotated[int, Strict(), Field(ge=3, le=MAX_LEVEL), Stored("int")]
OssDays = Annotated[float, Field(ge=0, le=MAX_OSS_DAYS, allow_inf_nan=False), Stored("float")]
Alternatives = Annotated[
    list[Annotated[str, Strict(), StringConstraints(min_length=1, max_length=200)]],
    Field(max_length=MAX_ALTERNATIVES),
    Stored("texts"),
]
Actions = Annotated[
    list[Action], Field(max_length=len(Action)), AfterValidator(_unique_actions), Stored("actions")
]


class Safeguards(BaseModel):
    """R7: an ISS for a student with an IEP needs all three, or it is recorded as a removal."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    school_work: Flag = False
    special_education_services: Flag = False
    peer_without_disability: Flag = False


SafeguardsField = Annotated[Safeguards, Stored("safeguards")]

Urgency = Literal["now", "soon"]
RequestState = Literal["open", "accepted", "resolved", "cancelled", "expired"]
Outcome = Literal["none", "logged", "tab-out"]
URGENCIES: tuple[Urgency, ...] = ("now", "soon")
REQUEST_STATES: tuple[RequestState, ...] = ("open", "accepted", "resolved", "cancelled", "expired")
OUTCOMES: tuple[Outcome, ...] = ("none", "logged", "tab-out")


def _one_line(value: str) -> str:
    if any(character < " " or character == "\x7f" for character in value):
        raise ValueError("must be one line without control characters")
    return value


def _unique_ids(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


RequestNote = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=MAX_REQUEST_NOTE_CHARS),
    AfterValidator(_one_line),
    Stored("text"),
]
StudentIds = Annotated[
    list[Identifier],
    Field(max_length=MAX_REQUEST_STUDENTS),
    AfterValidator(_unique_ids),
    Stored("ids"),
]
UrgencyField = Annotated[Urgency, Stored("choice")]
RequestStateField = Annotated[RequestState, Stored("choice")]
OutcomeField = Annotated[Outcome, Stored("choice")]
TabKindField = Annotated[TabKind, Stored("choice")]
StartedByField = Annotated[StartedBy, Stored("choice")]
FollowUpKindField = Annotated[FollowUpKind, Stored("choice")]
InterventionKindField = Annotated[InterventionKind, Stored("choice")]


class SyncRecord(BaseModel):
    """Base of the syncable kinds: every field optional, none null unless declared so."""

    model_config = ConfigDict(extra="forbid", defer_build=True, validate_default=False)
    kind: ClassVar[str]
    required_on_create: ClassVar[frozenset[str]]


_unset: Any = None


class IncidentRecord(SyncRecord):
    """A Level 1 or 2 intervention (only Level 2 leaves its device: R1)."""

    kind: ClassVar[str] = "incident"
    required_on_create: ClassVar[frozenset[str]] = REQUIRED_ON_CREATE["incident"]

    student_id: Identifier = _unset
    staff_id: Identifier = _unset
    device_id: Identifier = _unset
    behavior_code: BehaviorCode = _unset
    level: Level = _unset
    actions: Actions = _unset
    occurred_at: Moment = _unset
    tz: Zone = _unset
    location: ShortText | None = None
    motivation: ShortText | None = None
    others_involved: ShortText | None = None
    note: Note = _unset
    iss_days: IssDays | None = None
    removal_minutes: RemovalMinutes | None = None
    iss_safeguards: SafeguardsField | None = None
    iss_recorded_as_removal: Flag = _unset
    advised_level: AdvisedLevel | None = None
    progression_bypassed: Flag = _unset
    bypass_reason: ShortText | None = None
    group_id: Identifier | None = None
    created_at: Moment = _unset
    updated_at: Moment = _unset
    voided_at: Moment | None = None
    void_reason: ShortText | None = None


class TabRecord(SyncRecord):
    """A Take a Break: a support, never discipline (R3)."""

    kind: ClassVar[str] = "tab"
    required_on_create: ClassVar[frozenset[str]] = REQUIRED_ON_CREATE["tab"]

    student_id: Identifier = _unset
    staff_id: Identifier = _unset
    device_id: Identifier = _unset
    kind_of_break: TabKindField = Field(default=_unset, alias="kind")
    started_by: StartedByField = _unset
    started_at: Moment = _unset
    ended_at: Moment | None = None
    returned_ready: Flag | None = None
    reflection: Note | None = None
    incident_id: Identifier | None = None
    note: Note = _unset
    tz: Zone = _unset
    voided_at: Moment | None = None
    void_reason: ShortText | None = None


class FollowUpRecord(SyncRecord):
    """One of the plan's minimum follow-ups of a Level 2 incident (R6)."""

    kind: ClassVar[str] = "follow_up"
    required_on_create: ClassVar[frozenset[str]] = REQUIRED_ON_CREATE["follow_up"]

    incident_id: Identifier = _unset
    kind_of_follow_up: FollowUpKindField = Field(default=_unset, alias="kind")
    created_at: Moment = _unset
    due_at: Moment | None = None
    done_at: Moment | None = None
    done_by: Identifier | None = None
    note: Note = _unset
    voided_at: Moment | None = None


class SupportRequestRecord(SyncRecord):
    """A teacher's call for mobile response staff (R9). It names who called, from where, for
    whom and how urgently, and its state; it never holds a behavior, a level or a note of any
    record (R1)."""

    kind: ClassVar[str] = "support_request"
    required_on_create: ClassVar[frozenset[str]] = REQUIRED_ON_CREATE["support_request"]

    school_id: Identifier = _unset
    requested_by: Identifier = _unset
    requested_by_name: ShortText = _unset
    device_id: Identifier = _unset
    room: ShortText | None = None
    section_id: Identifier | None = None
    student_ids: StudentIds = _unset
    urgency: UrgencyField = _unset
    note: RequestNote = _unset
    state: RequestStateField = _unset
    accepted_by: Identifier | None = None
    accepted_by_name: ShortText | None = None
    accepted_at: Moment | None = None
    resolved_at: Moment | None = None
    outcome: OutcomeField | None = None
    incident_id: Identifier | None = None
    created_at: Moment = _unset
    updated_at: Moment = _unset


class InterventionRecord(SyncRecord):
    """An intervention (R5) for a student and one behavior (or all of them). One answering a
    Level 1 record stays on its device (R1): ``incident_id`` only ever names a Level 2 one."""

    kind: ClassVar[str] = "intervention"
    required_on_create: ClassVar[frozenset[str]] = REQUIRED_ON_CREATE["intervention"]

    student_id: Identifier = _unset
    staff_id: Identifier = _unset
    device_id: Identifier = _unset
    behavior_code: BehaviorCode | None = None
    kind_of_intervention: InterventionKindField = Field(default=_unset, alias="kind")
    kind_label: ShortText = _unset
    starts_on: Day = _unset
    review_on: Day = _unset
    incident_id: Identifier | None = None
    note: Note = _unset
    created_at: Moment = _unset
    updated_at: Moment = _unset
    voided_at: Moment | None = None
    void_reason: ShortText | None = None


class OfficeReferralRecord(SyncRecord):
    """A student sent to the office for an office-managed behavior (R10). The decision fields
    (``REFERRAL_DECISION_FIELDS``) are the office's, written by an administrator on the server
    and pulled back by the referring device."""

    kind: ClassVar[str] = "office_referral"
    required_on_create: ClassVar[frozenset[str]] = REQUIRED_ON_CREATE["office_referral"]

    student_id: Identifier = _unset
    staff_id: Identifier = _unset
    device_id: Identifier = _unset
    behavior_code: BehaviorCode = _unset
    occurred_at: Moment = _unset
    tz: Zone = _unset
    location: ShortText | None = None
    note: Note = _unset
    decided_level: OfficeLevel | None = None
    oss_days: OssDays | None = None
    alternatives: Alternatives | None = None
    decided_at: Moment | None = None
    created_at: Moment = _unset
    updated_at: Moment = _unset
    voided_at: Moment | None = None
    void_reason: ShortText | None = None


class StudentRecord(SyncRecord):
    """The minimum a device holds about a student (R8): never demographics."""

    kind: ClassVar[str] = "student"
    required_on_create: ClassVar[frozenset[str]] = frozenset({"given_name", "family_name"})

    given_name: ShortText = _unset
    family_name: ShortText = _unset
    grade: Annotated[str, Strict(), StringConstraints(max_length=32)] = _unset
    iep: Flag = _unset
    school_id: Identifier | None = None


class StaffRecord(SyncRecord):
    kind: ClassVar[str] = "staff"
    required_on_create: ClassVar[frozenset[str]] = frozenset({"given_name", "family_name"})

    given_name: ShortText = _unset
    family_name: ShortText = _unset
    role: ShortText = _unset
    school_id: Identifier | None = None


class SectionRecord(SyncRecord):
    kind: ClassVar[str] = "section"
    required_on_create: ClassVar[frozenset[str]] = frozenset({"title"})

    title: ShortText = _unset
    school_id: Identifier | None = None
    course_title: ShortText = _unset
    periods: ShortText = _unset


class EnrollmentRecord(SyncRecord):
    kind: ClassVar[str] = "enrollment"
    required_on_create: ClassVar[frozenset[str]] = frozenset({"section_id", "user_id"})

    section_id: Identifier = _unset
    user_id: Identifier = _unset
    role: ShortText = _unset
    primary: Flag = _unset
    school_id: Identifier | None = None


class GridRecord(SyncRecord):
    """A whole grid version; its entries are checked by ``schema.grid``."""

    kind: ClassVar[str] = "grid"
    required_on_create: ClassVar[frozenset[str]] = frozenset({"grid"})

    version: Annotated[int, Strict(), Field(ge=1)] | None = None
    grid: dict[str, JsonValue] = _unset


class ConfigRecord(SyncRecord):
    """The district's settings that devices follow. Settings only the server uses (the
    summaries' calendar and suppression) may travel in the same kind and are ignored."""

    model_config = ConfigDict(extra="ignore", defer_build=True, validate_default=False)
    kind: ClassVar[str] = "config"
    required_on_create: ClassVar[frozenset[str]] = frozenset()

    school_year_start: date | None = None
    period_schedule: JsonValue = None


SYNC_KINDS: dict[str, type[SyncRecord]] = {
    "incident": IncidentRecord,
    "tab": TabRecord,
    "follow_up": FollowUpRecord,
    "support_request": SupportRequestRecord,
    "intervention": InterventionRecord,
    "office_referral": OfficeReferralRecord,
}
"""The kinds a device pushes."""
PULL_KINDS: dict[str, type[SyncRecord]] = {
    **SYNC_KINDS,
    "student": StudentRecord,
    "staff": StaffRecord,
    "section": SectionRecord,
    "enrollment": EnrollmentRecord,
    "grid": GridRecord,
    "config": ConfigRecord,
}
"""Every kind a device pulls."""


def wire_name(model: type[SyncRecord], attribute: str) -> str:
    alias = model.model_fields[attribute].alias
    return alias or attribute


def field_names(model: type[SyncRecord]) -> tuple[str, ...]:
    """A kind's field names as the wire spells them, in declaration order."""
    return tuple(wire_name(model, attribute) for attribute in model.model_fields)


def field_shapes(model: type[SyncRecord]) -> dict[str, Shape]:
    """Each stored field's shape, by wire name (fields without a ``Stored`` marker are left
    out: roster, grid and config kinds are not stored as typed records)."""
    shapes: dict[str, Shape] = {}
    for attribute, info in model.model_fields.items():
        for marker in _markers(info.annotation, info.metadata):
            shapes[wire_name(model, attribute)] = marker.shape
            break
    return shapes


def nullable_fields(model: type[SyncRecord]) -> frozenset[str]:
    """Fields whose annotation allows null."""
    return frozenset(
        wire_name(model, attribute)
        for attribute, info in model.model_fields.items()
        if _allows_none(info.annotation)
    )


def _allows_none(annotation: Any) -> bool:
    return annotation is None or type(None) in getattr(annotation, "__args__", ())


def _markers(annotation: Any, metadata: list[Any]) -> list[Stored]:
    found = [item for item in metadata if isinstance(item, Stored)]
    for argument in getattr(annotation, "__args__", ()):
        found += [
            item for item in getattr(argument, "__metadata__", ()) if isinstance(item, Stored)
        ]
    return found


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ").removeprefix("Input ")
    if first["type"] == "extra_forbidden":
        message = "is not a field of this kind"
    return f"field {where} {message}" if where else message


def check_fields(
    kind: str,
    fields: Mapping[str, JsonValue],
    *,
    create: bool = False,
    behavior_codes: frozenset[str] | None = None,
    ignore_unknown: bool = False,
) -> dict[str, JsonValue]:
    """The fields of one change of ``kind`` checked against its model, in their canonical wire
    form. ``create`` also requires what a new record must carry; ``ignore_unknown`` drops
    fields the model does not name (a device reading a newer server) instead of refusing them.
    Raises ``ContractError``."""
    model = PULL_KINDS.get(kind)
    if model is None:
        raise ContractError(f"unknown record kind {kind!r}")
    if ignore_unknown:
        names = _attributes_by_wire_name(model)
        fields = {name: value for name, value in fields.items() if name in names}
    context = {"behavior_codes": behavior_codes} if behavior_codes is not None else None
    try:
        parsed = model.model_validate(dict(fields), context=context)
    except ValidationError as error:
        raise ContractError(_describe(error)) from None
    if create:
        missing = sorted(name for name in model.required_on_create if fields.get(name) is None)
        if missing:
            raise ContractError(f"a new {kind} record needs {', '.join(missing)}")
    dumped: dict[str, JsonValue] = parsed.model_dump(
        mode="json", by_alias=True, include=_attributes(model, fields)
    )
    return dumped


@cache
def _attributes_by_wire_name(model: type[SyncRecord]) -> dict[str, str]:
    return {wire_name(model, attribute): attribute for attribute in model.model_fields}


def _attributes(model: type[SyncRecord], fields: Mapping[str, JsonValue]) -> set[str]:
    return set(_attributes_named(model, tuple(fields)))


@lru_cache(maxsize=256)
def _attributes_named(model: type[SyncRecord], names: tuple[str, ...]) -> frozenset[str]:
    """The model attributes of these wire names (a push's ops mostly repeat one set)."""
    by_wire = _attributes_by_wire_name(model)
    return frozenset(by_wire[name] for name in names if name in by_wire)


def safeguards_columns(value: JsonValue) -> dict[str, bool | None]:
    """The ISS safeguards object as one value per safeguard (all None when absent)."""
    if not isinstance(value, dict):
        return dict.fromkeys(SAFEGUARDS)
    return {name: bool(value.get(name)) for name in SAFEGUARDS}


def safeguards_value(columns: Mapping[str, bool | None]) -> dict[str, bool] | None:
    if all(columns.get(name) is None for name in SAFEGUARDS):
        return None
    return {name: bool(columns.get(name)) for name in SAFEGUARDS}


KindName = Literal[
    "incident", "tab", "follow_up", "support_request", "intervention", "office_referral"
]
