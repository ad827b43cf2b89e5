"""Request and response bodies of the server's own endpoints (the sync protocol's are in
``schema.wire``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from district.records import Record
from district.scope import Device

IdText = Field(min_length=1, max_length=255)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceOut(StrictModel):
    id: str
    name: str
    role: Literal["classroom", "mobile", "admin"]
    school_id: str | None
    district_scope: bool
    staff_id: str | None
    section_ids: list[str]
    revoked: bool
    created_at: datetime | None = None
    last_seen_at: datetime | None = None

    @classmethod
    def of(
        cls,
        device: Device,
        created_at: datetime | None = None,
        last_seen_at: datetime | None = None,
    ) -> DeviceOut:
        return cls(
            id=device.id,
            name=device.name,
            role=device.role,
            school_id=device.school_id,
            district_scope=device.district_scope,
            staff_id=device.staff_id,
            section_ids=list(device.section_ids),
            revoked=device.revoked_at is not None,
            created_at=created_at,
            last_seen_at=last_seen_at,
        )


class CodeRequest(StrictModel):
    role: Literal["classroom", "mobile", "admin"]
    school_id: str | None = Field(default=None, min_length=1, max_length=255)
    """Omitted: the calling admin's school (a district admin may omit it for a district-wide
    admin code)."""
    staff_id: str | None = Field(default=None, min_length=1, max_length=255)
    section_ids: list[str] = Field(default_factory=list, max_length=200)
    ttl_hours: float | None = Field(default=None, gt=0, le=24 * 90)


class CodeOut(StrictModel):
    code: str
    role: str
    school_id: str | None
    district_scope: bool
    staff_id: str | None
    section_ids: list[str]
    expires_at: datetime
    device_id: str | None = None
    """Set on a re-issue: the only device id the code enrolls."""


class CorrectionRequest(StrictModel):
    fields: dict[str, JsonValue] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=500)


class SupersededValue(StrictModel):
    field: str
    value: Any
    hlc: str
    written_by: str | None
    reason: str | None


class RecordOut(StrictModel):
    id: str
    kind: str
    school_id: str | None
    student_id: str | None
    owner_device_id: str
    cursor: int
    fields: dict[str, Any]
    field_hlc: dict[str, str]
    superseded: list[SupersededValue] = Field(default_factory=list)

    @classmethod
    def of(cls, record: Record, superseded: list[SupersededValue] | None = None) -> RecordOut:
        return cls(
            id=record.id,
            kind=record.kind,
            school_id=record.school_id,
            student_id=record.student_id,
            owner_device_id=record.owner_device_id,
            cursor=record.cursor,
            fields=record.fields,
            field_hlc=record.field_hlc,
            superseded=superseded or [],
        )


class ConfigIn(StrictModel):
    school_year_start: date


class ConfigOut(StrictModel):
    school_year_start: str


class GridOut(StrictModel):
    version: int
    entries: int
