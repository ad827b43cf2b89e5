"""Administrators: corrections that win and flow back to devices, records with their audit,
exports, the grid and the school year."""

from __future__ import annotations

import json

import httpx
from serverkit import Fleet, incident_fields, tab_fields, view

from schema.clock import Timestamp
from schema.grid import default_grid


async def test_a_correction_is_stamped_later_than_the_device_and_flows_back(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    owner, admin = fleet.classroom_1a, fleet.admin_1
    ahead_hlc = owner.hlc_at(4 * 60 * 1000)
    await owner.push(
        owner.op(
            "incident",
            "inc-fix",
            incident_fields("st1", owner.device_id, location="Gym"),
            hlc=ahead_hlc,
        )
    )
    _, cursor = await owner.pull_all()
    response = await http.patch(
        "/v1/admin/records/inc-fix",
        json={"fields": {"location": "Cafeteria"}, "reason": "wrong room"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert corrected["fields"]["location"] == "Cafeteria"
    stamp = Timestamp.decode(corrected["field_hlc"]["location"])
    assert stamp > Timestamp.decode(ahead_hlc)
    assert stamp.node == "server"
    changes, _ = await owner.pull_all(cursor)
    record = view(changes)[("incident", "inc-fix")]
    assert record is not None
    assert record["location"] == "Cafeteria"
    offline = Timestamp(stamp.wall_ms, 0, owner.device_id).encode()
    assert offline < corrected["field_hlc"]["location"]
    stale = owner.op("incident", "inc-fix", {"location": "Gym again"}, hlc=offline)
    assert await owner.statuses(stale) == ["superseded"]
    detail = await http.get("/v1/admin/records/inc-fix", headers=admin.headers)
    audit = detail.json()["superseded"]
    assert {
        "field": "location",
        "value": "Gym",
        "hlc": ahead_hlc,
        "written_by": None,
        "reason": "wrong room",
    } in audit
    assert any(row["value"] == "Gym again" for row in audit)


async def test_corrections_are_checked(fleet: Fleet, http: httpx.AsyncClient) -> None:
    owner, admin = fleet.classroom_1a, fleet.admin_1
    await owner.push(owner.op("incident", "inc-chk", incident_fields("st1", owner.device_id)))

    async def patch(body: dict[str, object], device: object = admin) -> httpx.Response:
        headers = device.headers  # type: ignore[attr-defined]
        return await http.patch("/v1/admin/records/inc-chk", json=body, headers=headers)

    assert (await patch({"fields": {"level": 1}, "reason": "x"})).status_code == 422
    assert (await patch({"fields": {"shoe_size": 9}, "reason": "x"})).status_code == 422
    assert (await patch({"fields": {"device_id": "other"}, "reason": "x"})).status_code == 422
    assert (await patch({"fields": {"note": "x"}})).status_code == 422
    assert (await patch({"fields": {}, "reason": "x"})).status_code == 422
    assert (await patch({"fields": {"student_id": "st7"}, "reason": "x"})).status_code == 422
    assert (await patch({"fields": {"note": "x"}, "reason": "x"}, fleet.admin_2)).status_code == 404
    assert (
        await patch({"fields": {"note": "x"}, "reason": "x"}, fleet.mobile_1)
    ).status_code == 403
    assert (
        await patch({"fields": {"note": "by district"}, "reason": "x"}, fleet.district_admin)
    ).status_code == 200
    missing = await http.patch(
        "/v1/admin/records/nope",
        json={"fields": {"note": "x"}, "reason": "x"},
        headers=admin.headers,
    )
    assert missing.status_code == 404


async def test_the_export_endpoint_gives_level_2_only_and_never_tab(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    owner = fleet.classroom_1a
    await owner.push(
        owner.op(
            "incident",
            "inc-exp",
            incident_fields("st1", owner.device_id, actions=["iss"], iss_days=1),
        ),
        owner.op("tab", "tab-exp", tab_fields("st1", owner.device_id)),
    )
    response = await http.get(
        "/v1/admin/export", params={"format": "jsonl"}, headers=fleet.admin_1.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == ["inc-exp"]
    assert "tab-exp" not in response.text
    edfi = await http.get(
        "/v1/admin/export", params={"format": "edfi"}, headers=fleet.admin_1.headers
    )
    actions = edfi.json()["disciplineActions"]
    assert actions[0]["disciplines"][0]["disciplineDescriptor"].endswith("#In School Suspension")
    other = await http.get(
        "/v1/admin/export", params={"format": "jsonl"}, headers=fleet.admin_2.headers
    )
    assert other.text == ""
    forbidden = await http.get(
        "/v1/admin/export",
        params={"format": "csv", "school_id": "school-1"},
        headers=fleet.admin_2.headers,
    )
    assert forbidden.status_code == 403


async def test_the_grid_and_school_year_are_district_wide_and_reach_devices(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    _, cursor = await fleet.classroom_2a.pull_all()
    document = json.loads(default_grid().to_json())
    document["entries"] = document["entries"][:3]
    refused = await http.put("/v1/admin/grid", json=document, headers=fleet.admin_1.headers)
    assert refused.status_code == 403
    bad = await http.put(
        "/v1/admin/grid", json={"entries": [{"code": "x"}]}, headers=fleet.district_admin.headers
    )
    assert bad.status_code == 422
    accepted = await http.put("/v1/admin/grid", json=document, headers=fleet.district_admin.headers)
    assert accepted.status_code == 200
    assert accepted.json()["entries"] == 3
    config = await http.put(
        "/v1/admin/config",
        json={"school_year_start": "2026-08-31"},
        headers=fleet.district_admin.headers,
    )
    assert config.status_code == 200
    changes, _ = await fleet.classroom_2a.pull_all(cursor)
    state = view(changes)
    grid = state[("grid", "grid")]
    assert grid is not None
    assert len(grid["grid"]["entries"]) == 3
    assert state[("config", "district")] == {"school_year_start": "2026-08-31"}
    read = await http.get("/v1/admin/config", headers=fleet.admin_2.headers)
    assert read.json() == {"school_year_start": "2026-08-31"}


async def test_admins_list_and_revoke_devices_of_their_scope(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    listed = await http.get("/v1/admin/devices", headers=fleet.admin_1.headers)
    ids = {device["id"] for device in listed.json()}
    assert fleet.classroom_1a.device_id in ids
    assert fleet.classroom_2a.device_id not in ids
    assert fleet.district_admin.device_id not in ids
    everyone = await http.get("/v1/admin/devices", headers=fleet.district_admin.headers)
    assert len(everyone.json()) == 8
    other = await http.post(
        f"/v1/admin/devices/{fleet.classroom_2a.device_id}/revoke", headers=fleet.admin_1.headers
    )
    assert other.status_code == 404
    revoked = await http.post(
        f"/v1/admin/devices/{fleet.classroom_1a.device_id}/revoke", headers=fleet.admin_1.headers
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    assert (await http.get("/v1/sync/pull", headers=fleet.classroom_1a.headers)).status_code == 401


async def test_admins_make_codes_for_their_own_school(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    made = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "classroom", "staff_id": "t1"},
        headers=fleet.admin_1.headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["section_ids"] == ["sec-1a"]
    elsewhere = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "mobile", "school_id": "school-2"},
        headers=fleet.admin_1.headers,
    )
    assert elsewhere.status_code == 403
    invalid = await http.post(
        "/v1/admin/enrollment-codes",
        json={"role": "classroom", "school_id": "school-2", "section_ids": ["sec-1a"]},
        headers=fleet.district_admin.headers,
    )
    assert invalid.status_code == 422
    enrolled = await http.post(
        "/v1/devices/enroll", json={"code": made.json()["code"], "device_id": "new-classroom"}
    )
    assert enrolled.status_code == 200
