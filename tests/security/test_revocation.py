"""Attack: keep reading after revocation through a long-poll opened before it."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from serverkit import SCHOOL_1, Fleet, Wall, enroll, incident_fields, server_settings

from district.app import create_app
from district.devices import revoke
from district.state import District

LONG_WAIT_SECONDS = 60


async def _until_waiting(app: FastAPI, count: int) -> None:
    """Yield to the server until ``count`` long-polls are parked waiting for a change."""
    district: District = app.state.district
    while True:
        if district.notifier.waiting >= count:
            return
        await asyncio.sleep(0.01)


async def _open_long_poll(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    cursor = (await http.get("/v1/sync/pull", headers=headers)).json()["cursor"]
    return await http.get(
        "/v1/sync/pull",
        params={"cursor": cursor, "wait": LONG_WAIT_SECONDS},
        headers=headers,
    )


async def test_a_long_poll_open_at_revocation_never_answers_a_later_record(
    http: httpx.AsyncClient, app: FastAPI, fleet: Fleet
) -> None:
    watcher = fleet.mobile_1
    poll = asyncio.create_task(_open_long_poll(http, watcher.headers))
    await _until_waiting(app, 1)
    revoked = await http.post(
        f"/v1/admin/devices/{watcher.device_id}/revoke", headers=fleet.admin_1.headers
    )
    assert revoked.status_code == 200
    teacher = fleet.classroom_1a
    created = teacher.op("incident", "inc-after-revoke", incident_fields("st1", teacher.device_id))
    assert await teacher.statuses(created) == ["applied"]
    answer = await poll
    assert answer.status_code == 401
    assert answer.json() == {"detail": "this device's token was revoked"}
    assert "inc-after-revoke" not in answer.text


async def test_revocation_by_another_process_ends_an_open_long_poll(
    http: httpx.AsyncClient, app: FastAPI, engine: sa.Engine, fleet: Fleet
) -> None:
    """``classlog district revoke`` writes the database directly: the long-poll's periodic
    database check finds it, and the answer is a 401, not an empty page at the deadline."""
    watcher = fleet.mobile_1
    poll = asyncio.create_task(_open_long_poll(http, watcher.headers))
    await _until_waiting(app, 1)
    revoke(engine, watcher.device_id)
    answer = await poll
    assert answer.status_code == 401


async def test_a_replaced_token_ends_its_open_long_poll(
    http: httpx.AsyncClient, app: FastAPI, fleet: Fleet
) -> None:
    watcher = fleet.mobile_1
    poll = asyncio.create_task(_open_long_poll(http, watcher.headers))
    await _until_waiting(app, 1)
    issued = await http.post(
        f"/v1/admin/devices/{watcher.device_id}/reissue", headers=fleet.admin_1.headers
    )
    enrolled = await http.post(
        "/v1/devices/enroll",
        json={"code": issued.json()["code"], "device_id": watcher.device_id},
    )
    assert enrolled.status_code == 200
    teacher = fleet.classroom_1a
    created = teacher.op("incident", "inc-after-reissue", incident_fields("st1", teacher.device_id))
    assert await teacher.statuses(created) == ["applied"]
    answer = await poll
    assert answer.status_code == 401
    assert "inc-after-reissue" not in answer.text


async def test_revocation_over_http_wakes_open_long_polls_at_once(
    database_url: str, engine: sa.Engine, wall: Wall
) -> None:
    """With no database re-check due for a minute and nothing written, the revocation itself
    must wake the parked long-poll (the event it waits on is set), which then answers 401."""
    app = create_app(
        server_settings(database_url, long_poll_db_interval_seconds=LONG_WAIT_SECONDS),
        engine=engine,
        wall=wall,
    )
    district: District = app.state.district
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
        watcher = await enroll(http, engine, "mobile", SCHOOL_1)
        admin = await enroll(http, engine, "admin", SCHOOL_1)
        poll = asyncio.create_task(_open_long_poll(http, watcher.headers))
        await _until_waiting(app, 1)
        parked_on = district.notifier.current()
        revoked = await http.post(
            f"/v1/admin/devices/{watcher.device_id}/revoke", headers=admin.headers
        )
        assert revoked.status_code == 200
        for _ in range(100):
            if parked_on.is_set():
                break
            await asyncio.sleep(0)
        assert parked_on.is_set(), "the revocation did not wake the open long-poll"
        answer = await poll
    assert answer.status_code == 401
