"""Attack: a school's administrator issues an enrollment code naming another school's staff
member (the device would then log records as that person)."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from serverkit import SCHOOL_1, SCHOOL_2, SECTION_1B, Fleet, world_roster

from district import tables
from district.roster_import import import_roster


def _codes(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(tables.enrollment_codes)
        return int(connection.execute(query).scalar_one())


async def test_a_school_admin_cannot_name_another_schools_staff(
    http: httpx.AsyncClient, engine: sa.Engine, fleet: Fleet
) -> None:
    before = _codes(engine)
    for role in ("mobile", "admin"):
        refused = await http.post(
            "/v1/admin/enrollment-codes",
            json={"role": role, "staff_id": "t3"},
            headers=fleet.admin_1.headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == f"staff member 't3' does not work at {SCHOOL_1!r}"
    classroom = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "classroom", "staff_id": "t3", "section_ids": ["sec-1a"]},
        headers=fleet.admin_1.headers,
    )
    assert classroom.status_code == 422
    assert _codes(engine) == before


async def test_a_district_admin_cannot_name_staff_of_another_school_either(
    http: httpx.AsyncClient, fleet: Fleet
) -> None:
    refused = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "mobile", "school_id": SCHOOL_2, "staff_id": "m1"},
        headers=fleet.district_admin.headers,
    )
    assert refused.status_code == 422


async def test_own_staff_and_any_staff_on_a_district_code_are_accepted(
    http: httpx.AsyncClient, fleet: Fleet
) -> None:
    own = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "mobile", "staff_id": "m1"},
        headers=fleet.admin_1.headers,
    )
    assert own.status_code == 201, own.text
    district_wide = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "admin", "staff_id": "t3"},
        headers=fleet.district_admin.headers,
    )
    assert district_wide.status_code == 201, district_wide.text


async def test_staff_teaching_a_section_of_the_school_may_be_named(
    http: httpx.AsyncClient, engine: sa.Engine, fleet: Fleet, tmp_path: Path
) -> None:
    roster = world_roster()
    roster.enroll(SECTION_1B, "t3", SCHOOL_1, "teacher")
    import_roster(engine, roster.write(tmp_path / "shared-teacher"))
    issued = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "mobile", "staff_id": "t3"},
        headers=fleet.admin_1.headers,
    )
    assert issued.status_code == 201, issued.text
