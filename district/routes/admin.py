"""Administrators' endpoints: devices, enrollment codes, records and corrections, exports, the
grid and the school-year start. A school's admin acts on that school only; a district admin on
all of them (and alone may change the grid and the school year, which are district-wide)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import JsonValue

from district import records
from district.corrections import CorrectionError, correct_record
from district.db import read_config, store_grid, store_school_year_start, write_transaction
from district.deps import AdminDep, ConnectionDep, DistrictDep
from district.devices import (
    EnrollmentCodeError,
    IssuedCode,
    ReissueRefused,
    get_device,
    issue_code,
    list_devices,
    reissue_code,
    revoke,
)
from district.export import ExportFilter, ExportFormat, export_text
from district.routes import ERROR_RESPONSES, json_errors
from district.routes.models import (
    CodeOut,
    CodeRequest,
    ConfigIn,
    ConfigOut,
    CorrectionRequest,
    DeviceOut,
    GridOut,
    RecordOut,
    SupersededValue,
)
from district.scope import Device, may_see_school, students_in_scope
from schema.grid import GridError, parse_grid

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

EXPORT_MEDIA_TYPES: dict[str, str] = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "edfi": "application/json",
}


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {what}")


def _require_district(admin: Device) -> None:
    if not admin.district_scope:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "district administrators only")


@router.get("/devices", response_model=list[DeviceOut])
def devices(admin: AdminDep, connection: ConnectionDep) -> list[DeviceOut]:
    """The devices in the admin's scope, newest first."""
    school = None if admin.district_scope else admin.school_id
    return [
        DeviceOut.of(item.device, item.created_at, item.last_seen_at)
        for item in list_devices(connection, school)
        if admin.district_scope or item.device.school_id == admin.school_id
    ]


@router.post("/devices/{device_id}/revoke", response_model=DeviceOut)
def revoke_device(device_id: str, admin: AdminDep, district: DistrictDep) -> DeviceOut:
    """Revoke a device's token; it is refused from its next request on, and its open
    long-polls are woken to answer 401."""
    with district.engine.connect() as connection:
        target = get_device(connection, device_id)
    if target is None or not (admin.district_scope or target.school_id == admin.school_id):
        raise _not_found(f"device {device_id}")
    revoked = revoke(district.engine, device_id, district.clock.now())
    assert revoked is not None
    district.notifier.notify()
    return DeviceOut.of(revoked)


@router.post("/enrollment-codes", response_model=CodeOut, status_code=status.HTTP_201_CREATED)
def make_code(body: CodeRequest, admin: AdminDep, district: DistrictDep) -> CodeOut:
    """A single-use, expiring enrollment code for the admin's school (or, for a district admin,
    any school or the district)."""
    school_id = body.school_id if body.school_id is not None else admin.school_id
    if not admin.district_scope and school_id != admin.school_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "codes only for your own school")
    hours = body.ttl_hours or district.settings.enrollment_code_ttl_hours
    try:
        issued = issue_code(
            district.engine,
            role=body.role,
            school_id=school_id,
            staff_id=body.staff_id,
            section_ids=tuple(body.section_ids),
            ttl=timedelta(hours=hours),
            now=district.clock.now(),
        )
    except EnrollmentCodeError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    return _code_out(issued)


def _code_out(issued: IssuedCode) -> CodeOut:
    return CodeOut(
        code=issued.code,
        role=issued.role,
        school_id=issued.school_id,
        district_scope=issued.district_scope,
        staff_id=issued.staff_id,
        section_ids=list(issued.section_ids),
        expires_at=issued.expires_at,
        device_id=issued.device_id,
    )


@router.post(
    "/devices/{device_id}/reissue",
    response_model=CodeOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: ERROR_RESPONSES[403], 409: ERROR_RESPONSES[403]},
)
def reissue_device(device_id: str, admin: AdminDep, district: DistrictDep) -> CodeOut:
    """Re-issue a device whose token was lost: a single-use code that enrolls this device id
    only, in its own role and scope. The device's records stay its own."""
    with district.engine.connect() as connection:
        target = get_device(connection, device_id)
    if target is None or not (admin.district_scope or target.school_id == admin.school_id):
        raise _not_found(f"device {device_id}")
    hours = district.settings.enrollment_code_ttl_hours
    try:
        issued = reissue_code(
            district.engine, device_id, ttl=timedelta(hours=hours), now=district.clock.now()
        )
    except ReissueRefused as refusal:
        raise HTTPException(refusal.status_code, str(refusal)) from refusal
    return _code_out(issued)


@router.get("/records/{record_id}", response_model=RecordOut)
def get_record(record_id: str, admin: AdminDep, connection: ConnectionDep) -> RecordOut:
    """A record with the values that lost a merge (its audit)."""
    record = records.load(connection, record_id)
    if record is None or record.tombstone or record.student_id is None:
        raise _not_found(f"record {record_id}")
    if not students_in_scope(connection, admin, [record.student_id]):
        raise _not_found(f"record {record_id}")
    superseded = [
        SupersededValue(**value) for value in records.superseded_for(connection, record_id)
    ]
    return RecordOut.of(record, superseded)


@router.patch(
    "/records/{record_id}",
    response_model=RecordOut,
    responses={404: ERROR_RESPONSES[403], 409: ERROR_RESPONSES[422]},
)
def correct(
    record_id: str, body: CorrectionRequest, admin: AdminDep, district: DistrictDep
) -> RecordOut:
    """Correct fields of a record, stamped with the server's clock so the change wins and flows
    back to devices on their next pull."""
    try:
        record = correct_record(
            district.engine, admin, record_id, body.fields, body.reason, district.clock
        )
    except CorrectionError as error:
        raise HTTPException(error.status_code, str(error)) from error
    district.notifier.notify()
    return RecordOut.of(record)


@router.get(
    "/export",
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string"}} for media in EXPORT_MEDIA_TYPES.values()
            }
        },
        **json_errors(*ERROR_RESPONSES),
    },
)
def export(
    admin: AdminDep,
    connection: ConnectionDep,
    format: Annotated[ExportFormat, Query()] = "jsonl",
    school_id: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
) -> PlainTextResponse:
    """Level 2 records for the official system (never Level 1, never Take a Break)."""
    if school_id is None and not admin.district_scope:
        school_id = admin.school_id
    if school_id is not None and not may_see_school(admin, school_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "exports only for your own school")
    selection = ExportFilter(school_id=school_id, date_from=date_from, date_to=date_to)
    text = export_text(connection, format, selection)
    return PlainTextResponse(text, media_type=EXPORT_MEDIA_TYPES[format])


@router.put("/grid", response_model=GridOut)
def put_grid(body: dict[str, JsonValue], admin: AdminDep, district: DistrictDep) -> GridOut:
    """Replace the behavior response grid (district admins); devices receive it by sync."""
    _require_district(admin)
    try:
        grid = parse_grid(json.dumps(body), "grid")
    except GridError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    if not len(grid):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "a grid needs behaviors")
    with write_transaction(district.engine) as tx:
        version = store_grid(tx, grid.to_json())
        tx.after_commit.append(district.notifier.notify)
    return GridOut(version=version, entries=len(grid))


@router.put("/config", response_model=ConfigOut)
def put_config(body: ConfigIn, admin: AdminDep, district: DistrictDep) -> ConfigOut:
    """Set the school year's start date (district admins); progression never looks across it."""
    _require_district(admin)
    with write_transaction(district.engine) as tx:
        store_school_year_start(tx, body.school_year_start)
        tx.after_commit.append(district.notifier.notify)
    return ConfigOut(school_year_start=body.school_year_start.isoformat())


@router.get("/config", response_model=ConfigOut)
def get_config(admin: AdminDep, connection: ConnectionDep) -> ConfigOut:
    return ConfigOut(school_year_start=str(read_config(connection).get("school_year_start", "")))
