"""Enrollment: a single-use, expiring code buys a token stored hashed; revocation is immediate."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from serverkit import (
    SCHOOL_1,
    SCHOOL_2,
    SECTION_1A,
    SECTION_1B,
    SECTION_2A,
    Wall,
    enroll,
    make_code,
    new_device_id,
)

from district import tables
from district.devices import EnrollmentCodeError, issue_code, revoke, secret_hash


async def _enroll(http: httpx.AsyncClient, code: str, device_id: str) -> httpx.Response:
    return await http.post("/v1/devices/enroll", json={"code": code, "device_id": device_id})


async def test_a_code_enrolls_one_device_and_the_token_is_stored_only_hashed(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    code = make_code(engine, "classroom", SCHOOL_1, (SECTION_1A,), "t1")
    device_id = new_device_id("classroom")
    first = await _enroll(http, code.lower().replace("-", " "), device_id)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["device_id"] == device_id
    assert body["role"] == "classroom"
    assert body["school_id"] == SCHOOL_1
    assert body["section_ids"] == [SECTION_1A]
    assert body["staff_id"] == "t1"
    assert "server_time" in body
    again = await _enroll(http, code, new_device_id("classroom"))
    assert again.status_code == 403
    assert again.json() == {"detail": "enrollment code is unknown, expired or already used"}
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(tables.devices.c.token_hash).where(tables.devices.c.id == device_id)
        ).scalar_one()
        codes = connection.execute(sa.select(tables.enrollment_codes.c.code_hash)).scalars().all()
    assert stored == secret_hash(body["token"])
    assert body["token"] not in stored
    assert all(code not in value for value in codes)
    me = await http.get("/v1/devices/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == device_id


async def test_an_expired_code_is_refused(
    http: httpx.AsyncClient, engine: sa.Engine, wall: Wall
) -> None:
    code = make_code(engine, "mobile", SCHOOL_1, ttl=timedelta(minutes=10))
    wall.offset_ms = 11 * 60 * 1000
    response = await _enroll(http, code, new_device_id("mobile"))
    assert response.status_code == 403


async def test_revocation_refuses_the_token_at_once_and_the_id_cannot_re_enroll(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    device = await enroll(http, engine, "mobile", SCHOOL_1)
    assert (await http.get("/v1/sync/pull", headers=device.headers)).status_code == 200
    revoke(engine, device.device_id)
    refused = await http.get("/v1/sync/pull", headers=device.headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "this device's token was revoked"}
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    again = await _enroll(http, make_code(engine, "mobile"), device.device_id)
    assert again.status_code == 409


async def test_re_enrolling_a_device_id_needs_its_current_token(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    device = await enroll(http, engine, "mobile", SCHOOL_1)
    code = make_code(engine, "mobile")
    takeover = await _enroll(http, code, device.device_id)
    assert takeover.status_code == 409
    assert "already enrolled" in takeover.json()["detail"]
    assert (await http.get("/v1/sync/pull", headers=device.headers)).status_code == 200
    response = await http.post(
        "/v1/devices/enroll",
        json={"code": code, "device_id": device.device_id},
        headers=device.headers,
    )
    assert response.status_code == 200
    old = await http.get("/v1/sync/pull", headers=device.headers)
    assert old.status_code == 401
    new = await http.get(
        "/v1/sync/pull", headers={"Authorization": f"Bearer {response.json()['token']}"}
    )
    assert new.status_code == 200


async def test_a_district_admin_code_has_no_school(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    device = await enroll(http, engine, "admin", None)
    assert device.enrollment["school_id"] == "district-1"
    by_org = await enroll(http, engine, "admin", "district-1")
    assert by_org.enrollment["role"] == "admin"


async def test_a_classroom_code_without_sections_takes_the_teachers_sections(
    http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    device = await enroll(http, engine, "classroom", SCHOOL_1, staff="t2")
    assert device.enrollment["section_ids"] == [SECTION_1B]


@pytest.mark.parametrize(
    ("role", "school", "sections", "staff", "message"),
    [
        ("classroom", SCHOOL_1, (), None, "needs --sections or --staff"),
        ("classroom", SCHOOL_1, (SECTION_2A,), None, "no section 'sec-2a' at school 'school-1'"),
        ("classroom", "nowhere", (SECTION_1A,), None, "no school 'nowhere'"),
        ("mobile", None, (), None, "belongs to a school"),
        ("mobile", "district-1", (), None, "is the district"),
        ("mobile", SCHOOL_1, (SECTION_1A,), None, "only a classroom device has sections"),
        ("classroom", SCHOOL_2, (), "t1", "teaches no section"),
        ("admin", SCHOOL_1, (), "ghost", "no staff member 'ghost'"),
        ("janitor", SCHOOL_1, (), None, "role must be one of"),
    ],
)
def test_codes_that_cannot_work_are_refused_with_what_to_fix(
    engine: sa.Engine,
    role: str,
    school: str | None,
    sections: tuple[str, ...],
    staff: str | None,
    message: str,
) -> None:
    with pytest.raises(EnrollmentCodeError, match=message):
        issue_code(
            engine,
            role=role,
            school_id=school,
            staff_id=staff,
            section_ids=sections,
            ttl=timedelta(hours=1),
        )
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(tables.enrollment_codes)
            ).scalar_one()
            == 0
        )
