"""Support requests on the server (R9, invariant 9), on SQLite and PostgreSQL: who may send,
see, accept, cancel and resolve a request; the first accept to commit wins and the other is
told who took it; a request nobody took expires and both sides see it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from serverkit import (
    SCHOOL_1,
    SCHOOL_2,
    SECTION_1A,
    DeviceClient,
    Fleet,
    Wall,
    enroll,
    incident_fields,
    view,
)

from district.support import ExpirySweeper
from schema.ids import new_id

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def request_fields(device: DeviceClient, staff: str = "t1", **extra: Any) -> dict[str, Any]:
    """A whole support request as a teacher's device first pushes it."""
    now = _now()
    fields: dict[str, Any] = {
        "school_id": SCHOOL_1,
        "requested_by": staff,
        "requested_by_name": f"Given{staff} Family{staff}",
        "device_id": device.device_id,
        "room": "Class sec-1a",
        "section_id": SECTION_1A,
        "student_ids": ["st1"],
        "urgency": "now",
        "note": "needs a walk",
        "state": "open",
        "accepted_by": None,
        "accepted_by_name": None,
        "accepted_at": None,
        "resolved_at": None,
        "outcome": None,
        "incident_id": None,
        "created_at": now,
        "updated_at": now,
    }
    fields.update(extra)
    return fields


def accept_fields(staff: str) -> dict[str, Any]:
    now = _now()
    return {
        "state": "accepted",
        "accepted_by": staff,
        "accepted_by_name": f"Responder {staff}",
        "accepted_at": now,
        "updated_at": now,
    }


async def send(device: DeviceClient, **extra: Any) -> tuple[str, dict[str, Any]]:
    request_id = new_id()
    body = await device.push(
        device.op("support_request", request_id, request_fields(device, **extra))
    )
    return request_id, body["results"][0]


async def held_request(device: DeviceClient, request_id: str) -> dict[str, Any] | None:
    changes, _ = await device.pull_all()
    return view(changes).get(("support_request", request_id))


async def test_a_request_reaches_its_schools_mobile_and_admin_devices_and_no_one_else(
    fleet: Fleet,
) -> None:
    request_id, result = await send(fleet.classroom_1a)
    assert result["status"] == "applied"
    for device in (fleet.mobile_1, fleet.admin_1, fleet.district_admin, fleet.classroom_1a):
        held = await held_request(device, request_id)
        assert held is not None
        assert held["state"] == "open"
        assert held["requested_by"] == "t1"
    for device in (fleet.mobile_2, fleet.admin_2, fleet.classroom_2a, fleet.classroom_1b):
        assert await held_request(device, request_id) is None


async def test_two_responders_accept_at_once_and_exactly_one_takes_it(
    fleet: Fleet, http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    second = await enroll(http, engine, "mobile", SCHOOL_1, staff="t2")
    request_id, _ = await send(fleet.classroom_1a)
    answers = await asyncio.gather(
        fleet.mobile_1.push(fleet.mobile_1.op("support_request", request_id, accept_fields("m1"))),
        second.push(second.op("support_request", request_id, accept_fields("t2"))),
    )
    results = [answer["results"][0] for answer in answers]
    assert sorted(result["status"] for result in results) == ["applied", "superseded"]
    winner = "m1" if results[0]["status"] == "applied" else "t2"
    loser_result = results[1] if winner == "m1" else results[0]
    assert loser_result["reason"] == f"already accepted by Responder {winner}"
    for device in (fleet.mobile_1, second, fleet.classroom_1a):
        held = await held_request(device, request_id)
        assert held is not None
        assert (held["state"], held["accepted_by"]) == ("accepted", winner)
        assert held["accepted_at"] is not None


async def test_the_losing_responder_pulls_the_request_again_after_its_answer(
    fleet: Fleet, http: httpx.AsyncClient, engine: sa.Engine
) -> None:
    """A superseded op moves the request to a new cursor: a device that pulled before its op
    lost still receives the request as it now stands."""
    second = await enroll(http, engine, "mobile", SCHOOL_1, staff="t2")
    request_id, _ = await send(fleet.classroom_1a)
    await fleet.mobile_1.push(fleet.mobile_1.op("support_request", request_id, accept_fields("m1")))
    _, cursor = await second.pull_all()
    answer = await second.push(second.op("support_request", request_id, accept_fields("t2")))
    assert answer["results"][0]["status"] == "superseded"
    changes, _ = await second.pull_all(cursor)
    assert view(changes)[("support_request", request_id)]["accepted_by"] == "m1"  # type: ignore[index]


async def test_a_classroom_device_cannot_accept(fleet: Fleet) -> None:
    request_id, _ = await send(fleet.classroom_1a)
    device = fleet.classroom_1b
    answer = await device.push(device.op("support_request", request_id, accept_fields("t2")))
    assert answer["results"][0]["status"] == "rejected"
    assert "only a mobile response device" in answer["results"][0]["reason"]
    held = await held_request(fleet.mobile_1, request_id)
    assert held is not None
    assert held["state"] == "open"


async def test_another_schools_mobile_device_can_neither_see_nor_accept(fleet: Fleet) -> None:
    request_id, _ = await send(fleet.classroom_1a)
    device = fleet.mobile_2
    answer = await device.push(device.op("support_request", request_id, accept_fields("m9")))
    assert answer["results"][0]["status"] == "rejected"
    assert await held_request(device, request_id) is None
    held = await held_request(fleet.mobile_1, request_id)
    assert held is not None
    assert held["state"] == "open"


async def test_only_the_teacher_who_sent_a_request_cancels_it(fleet: Fleet) -> None:
    request_id, _ = await send(fleet.classroom_1a)
    cancel = {"state": "cancelled", "resolved_at": _now(), "updated_at": _now()}
    other = fleet.classroom_1b
    answer = await other.push(other.op("support_request", request_id, cancel))
    assert answer["results"][0]["status"] == "rejected"
    assert "only the teacher who sent" in answer["results"][0]["reason"]
    mobile = fleet.mobile_1
    answer = await mobile.push(mobile.op("support_request", request_id, cancel))
    assert answer["results"][0]["status"] == "rejected"
    owner = fleet.classroom_1a
    answer = await owner.push(owner.op("support_request", request_id, cancel))
    assert answer["results"][0]["status"] == "applied"
    held = await held_request(fleet.mobile_1, request_id)
    assert held is not None
    assert held["state"] == "cancelled"
    late = await mobile.push(mobile.op("support_request", request_id, accept_fields("m1")))
    assert late["results"][0] == {
        "op_id": late["results"][0]["op_id"],
        "status": "superseded",
        "reason": "this request is cancelled",
        "retry": False,
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"requested_by": "t2"}, "only for its own staff member"),
        ({"school_id": SCHOOL_2}, "this device's school"),
        ({"student_ids": ["st7"]}, "student st7 is not in this device's scope"),
        ({"section_id": "sec-1b"}, "not one of this device's sections"),
        ({"state": "accepted"}, "must be open"),
    ],
)
async def test_a_device_sends_requests_only_as_itself_and_for_its_scope(
    fleet: Fleet, extra: dict[str, Any], message: str
) -> None:
    _, result = await send(fleet.classroom_1a, **extra)
    assert result["status"] == "rejected"
    assert message in result["reason"]


async def test_a_mobile_device_cannot_send_on_behalf_of_a_teacher(fleet: Fleet) -> None:
    device = fleet.mobile_1
    request_id = new_id()
    fields = request_fields(device, staff="t1", section_id=None)
    answer = await device.push(device.op("support_request", request_id, fields))
    assert answer["results"][0]["status"] == "rejected"
    assert "only for its own staff member" in answer["results"][0]["reason"]


async def test_only_the_responder_resolves_and_a_link_must_be_a_level_2_record_it_may_see(
    fleet: Fleet,
) -> None:
    request_id, _ = await send(fleet.classroom_1a)
    mobile = fleet.mobile_1
    resolve = {
        "state": "resolved",
        "outcome": "logged",
        "incident_id": "no-such-record",
        "resolved_at": _now(),
        "updated_at": _now(),
    }
    early = await mobile.push(mobile.op("support_request", request_id, resolve))
    assert early["results"][0]["status"] == "superseded"
    await mobile.push(mobile.op("support_request", request_id, accept_fields("m1")))
    answer = await mobile.push(mobile.op("support_request", request_id, resolve))
    assert answer["results"][0]["status"] == "applied"
    assert "link was dropped" in answer["results"][0]["reason"]
    held = await held_request(fleet.classroom_1a, request_id)
    assert held is not None
    assert (held["state"], held["outcome"], held["incident_id"]) == ("resolved", "logged", None)


async def test_a_linked_record_retracted_later_is_no_longer_named_by_the_request(
    fleet: Fleet,
) -> None:
    """R1: the responder resolved with a Level 2 record, then edited it down to Level 1 (its
    device retracts it): the request the school sees stops naming it."""
    request_id, _ = await send(fleet.classroom_1a)
    mobile = fleet.mobile_1
    incident_id = new_id()
    await mobile.push(
        mobile.op("incident", incident_id, incident_fields("st1", mobile.device_id, staff_id="m1"))
    )
    await mobile.push(mobile.op("support_request", request_id, accept_fields("m1")))
    resolve = {
        "state": "resolved",
        "outcome": "logged",
        "incident_id": incident_id,
        "resolved_at": _now(),
        "updated_at": _now(),
    }
    answer = await mobile.push(mobile.op("support_request", request_id, resolve))
    assert answer["results"][0] == {
        "op_id": answer["results"][0]["op_id"],
        "status": "applied",
        "reason": None,
        "retry": False,
    }
    linked = await held_request(fleet.classroom_1a, request_id)
    assert linked is not None
    assert linked["incident_id"] == incident_id
    _, cursor = await fleet.admin_1.pull_all()
    await mobile.push(mobile.op("incident", incident_id, op="retract"))
    changes, _ = await fleet.admin_1.pull_all(cursor)
    held = view(changes)
    assert held[("incident", incident_id)] is None
    assert held[("support_request", request_id)]["incident_id"] is None  # type: ignore[index]
    for device in (fleet.classroom_1a, fleet.mobile_1):
        final = await held_request(device, request_id)
        assert final is not None
        assert final["incident_id"] is None


async def test_a_change_that_is_not_a_state_change_is_refused(fleet: Fleet) -> None:
    request_id, _ = await send(fleet.classroom_1a)
    owner = fleet.classroom_1a
    answer = await owner.push(
        owner.op("support_request", request_id, {"note": "rewritten", "updated_at": _now()})
    )
    assert answer["results"][0]["status"] == "rejected"
    reopen = await owner.push(
        owner.op("support_request", request_id, {"state": "open", "updated_at": _now()})
    )
    assert reopen["results"][0]["status"] == "rejected"


async def test_a_request_with_level_content_never_gets_in(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    fields = {**request_fields(device), "level": 1, "behavior_code": "DIS-CLASS"}
    response = await device.http.post(
        "/v1/sync/push",
        json={
            "device_id": device.device_id,
            "ops": [
                {
                    "op_id": "op-x",
                    "seq": 1,
                    "kind": "support_request",
                    "id": new_id(),
                    "op": "upsert",
                    "fields": fields,
                    "hlc": device.stamp(),
                }
            ],
        },
        headers=device.headers,
    )
    assert response.status_code == 422
    assert "unknown fields for support_request: behavior_code, level" in response.text


async def test_a_request_nobody_took_expires_and_both_sides_see_it(
    fleet: Fleet, app: FastAPI, wall: Wall
) -> None:
    app.state.district.support_sweeper = ExpirySweeper(0)
    stale_id, _ = await send(fleet.classroom_1a)
    taken_id, _ = await send(fleet.classroom_1a)
    await fleet.mobile_1.push(fleet.mobile_1.op("support_request", taken_id, accept_fields("m1")))
    _, teacher_cursor = await fleet.classroom_1a.pull_all()
    _, mobile_cursor = await fleet.mobile_1.pull_all()
    wall.offset_ms = 29 * 60 * 1000
    changes, _ = await fleet.mobile_1.pull_all(mobile_cursor)
    assert ("support_request", stale_id) not in view(changes)
    wall.offset_ms = 31 * 60 * 1000
    for device, cursor in ((fleet.mobile_1, mobile_cursor), (fleet.classroom_1a, teacher_cursor)):
        changes, _ = await device.pull_all(cursor)
        held = view(changes)
        assert held[("support_request", stale_id)]["state"] == "expired"  # type: ignore[index]
        assert ("support_request", taken_id) not in held


async def test_a_new_request_wakes_a_waiting_long_poll_at_once(fleet: Fleet) -> None:
    mobile = fleet.mobile_1
    _, cursor = await mobile.pull_all()
    waiting = asyncio.create_task(mobile.pull(cursor, wait=20))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    request_id, _ = await send(fleet.classroom_1a)
    page = await asyncio.wait_for(waiting, 10)
    assert [change["id"] for change in page["changes"]] == [request_id]
