"""Enrollment codes, device enrollment, tokens and revocation.

A code is single-use and expires; only its SHA-256 is stored. A device trades it for a token of
32 random bytes, of which the server also keeps only the SHA-256, so a copy of the database
lets nobody act as a device.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from district import tables
from district.db import as_utc, utc_now, write_transaction
from district.scope import DISTRICT_SCHOOL_ID, ROLES, Device, Role
from schema.errors import UserError
from schema.wire import EnrollRequest, EnrollResponse

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
TEACHING_ROLES = ("teacher", "aide")


class EnrollmentCodeError(UserError, ValueError):
    """An enrollment code cannot be made as asked: the message says what to fix."""


class EnrollmentRefused(UserError):
    """A device's enrollment is refused; the message is safe to show the device."""

    def __init__(self, message: str, status_code: int = 403) -> None:
        super().__init__(message)
        self.status_code = status_code


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalize_code(code: str) -> str:
    """Codes are typed by people: case, spaces and dashes do not matter."""
    return "".join(char for char in code.upper() if char.isalnum())


def new_code() -> str:
    groups = [
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    ]
    return "-".join(groups)


@dataclass(frozen=True)
class IssuedCode:
    code: str
    role: Role
    school_id: str | None
    district_scope: bool
    staff_id: str | None
    section_ids: tuple[str, ...]
    expires_at: datetime
    device_id: str | None = None
    """Set on a re-issue: the only device id the code enrolls."""


def _org_type(connection: Connection, org_id: str) -> str | None:
    row = connection.execute(
        sa.select(tables.orgs.c.type).where(tables.orgs.c.sourced_id == org_id)
    ).first()
    return None if row is None else str(row[0])


def _teaching_sections(connection: Connection, staff_id: str, school_id: str) -> list[str]:
    enrollments, sections = tables.enrollments, tables.sections
    rows = connection.execute(
        sa.select(enrollments.c.section_id)
        .join(sections, sections.c.sourced_id == enrollments.c.section_id)
        .where(
            enrollments.c.user_id == staff_id,
            enrollments.c.role.in_(TEACHING_ROLES),
            enrollments.c.deleted.is_(False),
            sections.c.deleted.is_(False),
            sections.c.school_id == school_id,
        )
        .order_by(enrollments.c.section_id)
    )
    return [row[0] for row in rows]


def _works_at(connection: Connection, staff_id: str, school_id: str) -> bool:
    """The staff member's school is ``school_id``, or they teach a section there."""
    staff = tables.staff
    home = connection.execute(
        sa.select(staff.c.sourced_id).where(
            staff.c.sourced_id == staff_id, staff.c.school_id == school_id
        )
    ).first()
    return home is not None or bool(_teaching_sections(connection, staff_id, school_id))


def issue_code(
    engine: Engine,
    *,
    role: str,
    school_id: str | None,
    staff_id: str | None = None,
    section_ids: tuple[str, ...] = (),
    ttl: timedelta,
    now: datetime | None = None,
) -> IssuedCode:
    """Make a single-use enrollment code. A classroom device gets its sections now: the ones
    given, or else the sections its staff member teaches at the school. A code for a school
    names only staff who work there (their school, or a section they teach)."""
    if role not in ROLES:
        raise EnrollmentCodeError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if ttl <= timedelta(0):
        raise EnrollmentCodeError("the code's lifetime must be positive")
    issued_at = now or utc_now()
    with write_transaction(engine) as tx:
        connection = tx.connection
        district_scope = False
        if school_id is None:
            if role != "admin":
                raise EnrollmentCodeError(f"a {role} device belongs to a school: give --school")
            district_scope = True
        else:
            org_type = _org_type(connection, school_id)
            if org_type is None:
                raise EnrollmentCodeError(f"no school {school_id!r} in the roster")
            if org_type == "district":
                if role != "admin":
                    raise EnrollmentCodeError(
                        f"{school_id!r} is the district: a {role} device belongs to a school"
                    )
                district_scope = True
        if staff_id is not None:
            found = connection.execute(
                sa.select(tables.staff.c.sourced_id).where(
                    tables.staff.c.sourced_id == staff_id, tables.staff.c.deleted.is_(False)
                )
            ).first()
            if found is None:
                raise EnrollmentCodeError(f"no staff member {staff_id!r} in the roster")
        sections = tuple(dict.fromkeys(section_ids))
        if role == "classroom":
            assert school_id is not None
            if not sections:
                if staff_id is None:
                    raise EnrollmentCodeError("a classroom device needs --sections or --staff")
                sections = tuple(_teaching_sections(connection, staff_id, school_id))
                if not sections:
                    raise EnrollmentCodeError(
                        f"{staff_id!r} teaches no section at {school_id!r}: give --sections"
                    )
            known = {
                row[0]
                for row in connection.execute(
                    sa.select(tables.sections.c.sourced_id).where(
                        tables.sections.c.sourced_id.in_(sections),
                        tables.sections.c.school_id == school_id,
                        tables.sections.c.deleted.is_(False),
                    )
                )
            }
            missing = [section for section in sections if section not in known]
            if missing:
                raise EnrollmentCodeError(
                    f"no section {missing[0]!r} at school {school_id!r} in the roster"
                )
        elif sections:
            raise EnrollmentCodeError("only a classroom device has sections")
        if (
            staff_id is not None
            and not district_scope
            and not _works_at(connection, staff_id, str(school_id))
        ):
            raise EnrollmentCodeError(f"staff member {staff_id!r} does not work at {school_id!r}")
        code = new_code()
        expires_at = issued_at + ttl
        connection.execute(
            sa.insert(tables.enrollment_codes).values(
                code_hash=secret_hash(normalize_code(code)),
                role=role,
                school_id=None if district_scope and school_id is None else school_id,
                district_scope=district_scope,
                staff_id=staff_id,
                section_ids=list(sections),
                created_at=issued_at,
                expires_at=expires_at,
            )
        )
    return IssuedCode(code, role, school_id, district_scope, staff_id, sections, expires_at)


def _district_org(connection: Connection) -> str | None:
    row = connection.execute(
        sa.select(tables.orgs.c.sourced_id)
        .where(tables.orgs.c.type == "district")
        .order_by(tables.orgs.c.sourced_id)
    ).first()
    return None if row is None else str(row[0])


ALREADY_ENROLLED = (
    "this device id is already enrolled: re-enroll with the device's current token, or ask an"
    " administrator to re-issue the device"
)


def enroll(
    engine: Engine,
    request: EnrollRequest,
    now: datetime,
    current_token: str | None = None,
) -> EnrollResponse:
    """Trade a code for a token. The code is consumed in the same transaction that stores the
    device, so a code enrolls exactly one device.

    Device ids are not secret (they travel in pulled records), so an id already enrolled is
    never taken over: it re-enrolls only with the device's current token (``current_token``)
    or with a code an administrator re-issued for that very device (see ``reissue_code``). A
    revoked id is refused for good. A refusal consumes nothing."""
    codes, devices = tables.enrollment_codes, tables.devices
    token = secrets.token_urlsafe(32)
    code_hash = secret_hash(normalize_code(request.code))
    with write_transaction(engine) as tx:
        connection = tx.connection
        code = connection.execute(
            sa.select(
                codes.c.role,
                codes.c.school_id,
                codes.c.district_scope,
                codes.c.staff_id,
                codes.c.section_ids,
                codes.c.used_by,
            ).where(
                codes.c.code_hash == code_hash,
                codes.c.used_at.is_(None),
                codes.c.expires_at > now,
            )
        ).first()
        if code is None:
            raise EnrollmentRefused("enrollment code is unknown, expired or already used")
        reserved_for = code.used_by
        if reserved_for is not None and reserved_for != request.device_id:
            raise EnrollmentRefused("this code re-enrolls another device")
        existing = connection.execute(
            sa.select(devices.c.revoked_at, devices.c.token_hash).where(
                devices.c.id == request.device_id
            )
        ).first()
        if existing is not None:
            if existing.revoked_at is not None:
                raise EnrollmentRefused(
                    "this device id was revoked: enroll under a new device id", status_code=409
                )
            holds_token = current_token is not None and secrets.compare_digest(
                secret_hash(current_token), existing.token_hash
            )
            if reserved_for is None and not holds_token:
                raise EnrollmentRefused(ALREADY_ENROLLED, status_code=409)
        connection.execute(
            sa.update(codes)
            .where(codes.c.code_hash == code_hash)
            .values(used_at=now, used_by=request.device_id)
        )
        values: dict[str, Any] = {
            "name": request.device_name,
            "role": code.role,
            "school_id": code.school_id,
            "district_scope": bool(code.district_scope),
            "staff_id": code.staff_id,
            "section_ids": list(code.section_ids or []),
            "token_hash": secret_hash(token),
            "last_seen_at": now,
        }
        if existing is None:
            connection.execute(
                sa.insert(devices).values(id=request.device_id, created_at=now, **values)
            )
        else:
            connection.execute(
                sa.update(devices).where(devices.c.id == request.device_id).values(**values)
            )
        school_id = code.school_id or _district_org(connection) or DISTRICT_SCHOOL_ID
    return EnrollResponse(
        device_id=request.device_id,
        token=token,
        school_id=school_id,
        role=code.role,
        staff_id=code.staff_id,
        section_ids=list(code.section_ids or []),
        server_time=now,
    )


class ReissueRefused(UserError):
    """A device cannot be re-issued; ``status_code`` says how the API answers it."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def reissue_code(
    engine: Engine, device_id: str, *, ttl: timedelta, now: datetime | None = None
) -> IssuedCode:
    """An administrator's explicit re-issue: a single-use code that enrolls ``device_id`` and
    no other id, with the device's own role and scope (for a device whose token was lost).
    The code's ``used_by`` is set at issue: it names the only device that may use it. The old
    token keeps working until the code is used. A revoked device stays revoked."""
    if ttl <= timedelta(0):
        raise EnrollmentCodeError("the code's lifetime must be positive")
    issued_at = now or utc_now()
    with write_transaction(engine) as tx:
        device = get_device(tx.connection, device_id)
        if device is None:
            raise ReissueRefused(f"no device {device_id}", 404)
        if device.revoked_at is not None:
            raise ReissueRefused(
                "a revoked device stays revoked: enroll it under a new device id", 409
            )
        code = new_code()
        expires_at = issued_at + ttl
        tx.connection.execute(
            sa.insert(tables.enrollment_codes).values(
                code_hash=secret_hash(normalize_code(code)),
                role=device.role,
                school_id=device.school_id,
                district_scope=device.district_scope,
                staff_id=device.staff_id,
                section_ids=list(device.section_ids),
                created_at=issued_at,
                expires_at=expires_at,
                used_by=device_id,
            )
        )
    return IssuedCode(
        code,
        device.role,
        device.school_id,
        device.district_scope,
        device.staff_id,
        device.section_ids,
        expires_at,
        device_id,
    )


def device_for_token(connection: Connection, token: str) -> Device | None:
    """The enrolled device holding ``token`` (revoked or not), or None."""
    row = (
        connection.execute(
            sa.select(tables.devices).where(tables.devices.c.token_hash == secret_hash(token))
        )
        .mappings()
        .first()
    )
    return None if row is None else Device.from_row(row)


def get_device(connection: Connection, device_id: str) -> Device | None:
    row = (
        connection.execute(sa.select(tables.devices).where(tables.devices.c.id == device_id))
        .mappings()
        .first()
    )
    return None if row is None else Device.from_row(row)


def revoke(engine: Engine, device_id: str, now: datetime | None = None) -> Device | None:
    """Revoke a device's token at once; None when no such device. Revoking twice keeps the
    first time."""
    devices = tables.devices
    with write_transaction(engine) as tx:
        tx.connection.execute(
            sa.update(devices)
            .where(devices.c.id == device_id, devices.c.revoked_at.is_(None))
            .values(revoked_at=now or utc_now())
        )
        return get_device(tx.connection, device_id)


@dataclass(frozen=True)
class DeviceListing:
    device: Device
    created_at: datetime
    last_seen_at: datetime | None


def list_devices(connection: Connection, school_id: str | None = None) -> list[DeviceListing]:
    """Devices, newest first; only one school's (and none district-wide) when ``school_id``."""
    devices = tables.devices
    query = sa.select(devices).order_by(devices.c.created_at.desc(), devices.c.id)
    if school_id is not None:
        query = query.where(devices.c.school_id == school_id)
    listing = []
    for row in connection.execute(query).mappings():
        seen = row["last_seen_at"]
        listing.append(
            DeviceListing(
                Device.from_row(row), as_utc(row["created_at"]), as_utc(seen) if seen else None
            )
        )
    return listing
