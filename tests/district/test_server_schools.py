"""The schools an admin token covers, by name (the dashboard's school filter): a district
administrator's dashboard offers every school with devices by its roster name, a school's
administrator is told of their own school only, and other devices are refused."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from httpx import ASGITransport
from serverkit import SCHOOL_1, SCHOOL_2, Fleet

from tui.admin.api import SummariesClient
from tui.admin.connection import AdminConnection


async def test_the_schools_route_names_the_schools_in_the_tokens_scope(fleet: Fleet) -> None:
    async def listed(device: object) -> tuple[int, object]:
        response = await fleet.admin_1.http.get(
            "/v1/admin/schools",
            headers=device.headers,  # type: ignore[attr-defined]
        )
        return response.status_code, response.json()

    assert await listed(fleet.district_admin) == (
        200,
        [
            {"id": SCHOOL_1, "name": f"School {SCHOOL_1}"},
            {"id": SCHOOL_2, "name": f"School {SCHOOL_2}"},
        ],
    )
    assert await listed(fleet.admin_2) == (200, [{"id": SCHOOL_2, "name": f"School {SCHOOL_2}"}])
    status, _ = await listed(fleet.mobile_1)
    assert status == 403


async def test_the_dashboards_school_choices_carry_the_schools_names(
    fleet: Fleet, app: FastAPI, tmp_path: Path
) -> None:
    admin = fleet.district_admin
    connection = AdminConnection(
        "http://district.test", admin.token, "", "America/Chicago", tmp_path
    )
    client = SummariesClient(connection, transport=ASGITransport(app=app))
    try:
        assert await client.schools() == [
            (SCHOOL_1, f"School {SCHOOL_1}"),
            (SCHOOL_2, f"School {SCHOOL_2}"),
        ]
    finally:
        await client.aclose()
