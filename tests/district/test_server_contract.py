"""The server validates every field of every kind with the record contract the devices use
(issue 8, item 3), and checks a record's incident link against the pusher's scope with the same
answer for an unknown and a forbidden id (item 7). Each test first makes the attack that used
to work."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from serverkit import Fleet, follow_up_fields, incident_fields, tab_fields

from district.push import TAB_LINK_DROPPED
from district.records import load
from schema.contract import check_fields


async def _export(admin: Any) -> list[dict[str, Any]]:
    response = await admin.http.get(
        "/v1/admin/export", params={"format": "jsonl"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


async def test_a_create_without_what_a_device_needs_is_refused_and_never_exported(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device = fleet.classroom_1a
    bare = {
        "student_id": "st1",
        "behavior_code": "DIS-CLASS",
        "level": 2,
        "occurred_at": "2026-09-01T10:00:00.000+00:00",
    }
    body = await device.push(device.op("incident", "inc-bare", bare))
    result = body["results"][0]
    assert result["status"] == "rejected"
    assert "staff_id" in result["reason"]
    assert "tz" in result["reason"]
    with engine.connect() as connection:
        assert load(connection, "inc-bare") is None
    assert "inc-bare" not in {row["id"] for row in await _export(fleet.admin_1)}


HOSTILE_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    ("incident", {"behavior_code": "NOPE<script>"}, "behavior_code"),
    ("incident", {"behavior_code": "NOPE"}, "not a behavior code of the grid"),
    ("incident", {"tz": "../../../../etc/passwd"}, "field tz"),
    ("incident", {"tz": "/etc/localtime"}, "field tz"),
    ("incident", {"occurred_at": "9999-12-31T23:59:59.000+00:00"}, "field occurred_at"),
    ("incident", {"created_at": "1900-01-01T00:00:00.000+00:00"}, "field created_at"),
    ("incident", {"iss_days": 1e308}, "field iss_days"),
    ("incident", {"iss_days": -1}, "field iss_days"),
    ("incident", {"note": "x" * 4001}, "field note"),
    ("incident", {"location": "y" * 501}, "field location"),
    ("incident", {"actions": ["iss", "detention"]}, "field actions"),
    ("incident", {"advised_level": 99}, "field advised_level"),
    ("incident", {"staff_id": ""}, "field staff_id"),
    ("tab", {"kind": "detention"}, "field kind"),
    ("tab", {"started_by": "robot"}, "field started_by"),
    ("tab", {"tz": "Mars/Olympus_Mons"}, "field tz"),
    ("tab", {"ended_at": "10 minutes later"}, "field ended_at"),
]


@pytest.mark.parametrize(("kind", "bad", "reason"), HOSTILE_FIELDS)
async def test_every_field_is_checked_on_create_and_on_update(
    fleet: Fleet, engine: sa.Engine, kind: str, bad: dict[str, Any], reason: str
) -> None:
    device = fleet.classroom_1a
    whole = (
        incident_fields("st1", device.device_id)
        if kind == "incident"
        else tab_fields("st1", device.device_id)
    )
    create = device.op(kind, f"{kind}-hostile", {**whole, **bad})
    body = await device.push(create)
    assert body["results"][0]["status"] == "rejected"
    assert reason in body["results"][0]["reason"]
    assert await device.statuses(device.op(kind, f"{kind}-fine", whole)) == ["applied"]
    body = await device.push(device.op(kind, f"{kind}-fine", bad))
    assert body["results"][0]["status"] == "rejected"
    assert reason in body["results"][0]["reason"]
    with engine.connect() as connection:
        assert load(connection, f"{kind}-hostile") is None
        stored = load(connection, f"{kind}-fine")
    assert stored is not None
    check_fields(kind, stored.fields, create=True)
    for name, value in bad.items():
        assert stored.fields.get(name) != value


async def test_an_administrators_correction_is_checked_by_the_same_contract(
    fleet: Fleet,
) -> None:
    device = fleet.classroom_1a
    await device.push(device.op("incident", "inc-corr", incident_fields("st1", device.device_id)))
    admin = fleet.admin_1
    for bad in ({"tz": "../etc/passwd"}, {"occurred_at": "9999-01-01T00:00:00+00:00"}):
        response = await admin.http.patch(
            "/v1/admin/records/inc-corr",
            json={"fields": bad, "reason": "hostile"},
            headers=admin.headers,
        )
        assert response.status_code == 422, response.text


async def _tab_link_answer(device: Any, tab_id: str, incident_id: str) -> dict[str, Any]:
    body = await device.push(
        device.op("tab", tab_id, tab_fields("st7", device.device_id, incident_id=incident_id))
    )
    result: dict[str, Any] = body["results"][0]
    return {"status": result["status"], "reason": result["reason"]}


async def test_a_tab_cannot_link_to_another_schools_incident_nor_learn_that_it_exists(
    fleet: Fleet, engine: sa.Engine
) -> None:
    owner = fleet.classroom_1a
    await owner.push(owner.op("incident", "inc-school-1", incident_fields("st1", owner.device_id)))
    outsider = fleet.mobile_2
    forbidden = await _tab_link_answer(outsider, "tab-forbidden", "inc-school-1")
    unknown = await _tab_link_answer(outsider, "tab-unknown", "inc-never-existed")
    assert forbidden == unknown == {"status": "applied", "reason": TAB_LINK_DROPPED}
    with engine.connect() as connection:
        tab = load(connection, "tab-forbidden")
    assert tab is not None
    assert tab.fields["incident_id"] is None
    assert tab.parent_id is None
    later = outsider.op("tab", "tab-forbidden", {"incident_id": "inc-school-1"})
    update = (await outsider.push(later))["results"][0]
    later_unknown = outsider.op("tab", "tab-unknown", {"incident_id": "inc-never-existed"})
    update_unknown = (await outsider.push(later_unknown))["results"][0]
    assert (update["status"], update["reason"]) == (
        update_unknown["status"],
        update_unknown["reason"],
    )
    with engine.connect() as connection:
        tab = load(connection, "tab-forbidden")
    assert tab is not None
    assert tab.fields["incident_id"] is None


async def test_a_follow_up_of_another_schools_incident_is_answered_as_if_it_did_not_exist(
    fleet: Fleet,
) -> None:
    owner = fleet.classroom_1a
    await owner.push(owner.op("incident", "inc-private", incident_fields("st1", owner.device_id)))
    outsider = fleet.mobile_2
    forbidden = (
        await outsider.push(
            outsider.op("follow_up", "fu-forbidden", follow_up_fields("inc-private"))
        )
    )["results"][0]
    unknown = (
        await outsider.push(outsider.op("follow_up", "fu-unknown", follow_up_fields("inc-nobody")))
    )["results"][0]
    assert forbidden["status"] == unknown["status"] == "rejected"
    assert forbidden["reason"] == unknown["reason"]


async def test_a_tab_links_to_its_own_students_incident_in_scope(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    await device.push(device.op("incident", "inc-own", incident_fields("st1", device.device_id)))
    body = await device.push(
        device.op("tab", "tab-own", tab_fields("st1", device.device_id, incident_id="inc-own"))
    )
    assert body["results"][0] == {
        "op_id": body["results"][0]["op_id"],
        "status": "applied",
        "reason": None,
        "retry": False,
    }
    other_student = await device.push(
        device.op("tab", "tab-other", tab_fields("st2", device.device_id, incident_id="inc-own"))
    )
    assert other_student["results"][0]["reason"] == TAB_LINK_DROPPED
