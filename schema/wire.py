"""The sync protocol between devices and the district server (DESIGN section 5).

Both sides validate every message with these models. Level 1 content has no way onto the wire:
``PushOp`` refuses an incident upsert carrying level 1, and a retraction carries no fields at all.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from schema.clock import Timestamp
from schema.fields import FIELDS_BY_KIND as FIELDS_BY_KIND
from schema.fields import FOLLOW_UP_FIELDS as FOLLOW_UP_FIELDS
from schema.fields import INCIDENT_FIELDS as INCIDENT_FIELDS
from schema.fields import TAB_FIELDS as TAB_FIELDS

PROTOCOL_VERSION = 1
MAX_OPS_PER_PUSH = 500
MAX_PUSH_BYTES = 1_000_000
MAX_PULL_LIMIT = 1000
MAX_PULL_WAIT_SECONDS = 60
MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000

SyncKind = Literal[
    "incident", "tab", "follow_up", "support_request", "intervention", "office_referral"
]
PullKind = Literal[
    "incident", "tab", "follow_up", "support_request", "intervention", "office_referral",
    "student", "staff", "section", "enrollment", "grid", "config",
]  # fmt: skip


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PushOp(WireModel):
    """One change to one record. ``fields`` holds only the fields this op sets."""

    op_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1)
    kind: SyncKind
    id: str = Field(min_length=1, max_length=64)
    op: Literal["upsert", "retract"]
    fields: dict[str, JsonValue] = Field(default_factory=dict)
    hlc: str = Field(min_length=21, max_length=120)

    @model_validator(mode="after")
    def _content_rules(self) -> PushOp:
        Timestamp.decode(self.hlc)
        if self.op == "retract":
            if self.fields:
                raise ValueError("a retraction carries no fields")
            return self
        unknown = set(self.fields) - FIELDS_BY_KIND[self.kind]
        if unknown:
            raise ValueError(f"unknown fields for {self.kind}: {', '.join(sorted(unknown))}")
        return self

    def refusal(self) -> str | None:
        """Why this op must never be stored off the device, or None. Checked per op by the
        server (a rejection, not a failed request, so one bad op never blocks a queue) and by the
        daemon before anything is sent."""
        if self.kind == "incident" and self.op == "upsert":
            level = self.fields.get("level")
            if level is not None and level != 2:
                return "Level 1 content is refused: only Level 2 records leave a device"
        return None

    @property
    def timestamp(self) -> Timestamp:
        return Timestamp.decode(self.hlc)


class PushRequest(WireModel):
    device_id: str = Field(min_length=1, max_length=64)
    protocol: int = PROTOCOL_VERSION
    ops: list[PushOp] = Field(max_length=MAX_OPS_PER_PUSH)


class OpStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"


class OpResult(WireModel):
    op_id: str
    status: OpStatus
    reason: str | None = None
    retry: bool = False
    """True for a rejection that may succeed later (e.g. a clock ahead); False is permanent."""


class PushResponse(WireModel):
    results: list[OpResult]
    server_time: datetime
    server_hlc: str


class Change(WireModel):
    """One record as the server holds it, or its removal from this device's scope."""

    cursor: int
    kind: PullKind
    id: str
    op: Literal["upsert", "remove"]
    fields: dict[str, JsonValue] = Field(default_factory=dict)
    field_hlc: dict[str, str] = Field(default_factory=dict)


class PullResponse(WireModel):
    changes: list[Change]
    cursor: int
    has_more: bool
    server_time: datetime


class EnrollRequest(WireModel):
    code: str = Field(min_length=4, max_length=64)
    device_id: str = Field(min_length=1, max_length=64)
    device_name: str = Field(default="", max_length=200)


class EnrollResponse(WireModel):
    device_id: str
    token: str
    school_id: str
    role: Literal["classroom", "mobile", "admin"]
    staff_id: str | None = None
    section_ids: list[str] = Field(default_factory=list)
    server_time: datetime


class ErrorBody(WireModel):
    detail: str


def wire_fields(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The subset of a stored record that may travel for ``kind``."""
    allowed = FIELDS_BY_KIND[kind]
    return {name: value for name, value in record.items() if name in allowed}
