"""Hardening: body size limits, strict validation, one-line JSON errors, per-token rate limits,
health and the published OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from serverkit import SCHOOL_1, Fleet, Wall, enroll, incident_fields, server_settings

from district.app import create_app
from schema.wire import MAX_OPS_PER_PUSH


async def test_a_body_over_the_limit_is_refused_with_413_before_parsing(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    device = fleet.classroom_1a
    huge = device.op(
        "incident", "inc-huge", incident_fields("st1", device.device_id, note="x" * 9000)
    )
    ops = [dict(huge, op_id=f"big-{n}") for n in range(130)]
    response = await http.post(
        "/v1/sync/push", json={"device_id": device.device_id, "ops": ops}, headers=device.headers
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 1048576 bytes"}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(200):
            yield b"x" * 10_000

    streamed = await http.post(
        "/v1/sync/push",
        content=chunks(),
        headers={**device.headers, "content-type": "application/json"},
    )
    assert streamed.status_code == 413


async def test_bodies_are_validated_strictly_with_one_line_errors(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    device = fleet.classroom_1a
    op = device.op("incident", "inc-strict", incident_fields("st1", device.device_id))
    cases = [
        {"device_id": device.device_id, "ops": [op], "extra": True},
        {"device_id": device.device_id, "ops": [dict(op, surprise=1)]},
        {"device_id": device.device_id, "ops": [dict(op, fields={"shoe_size": 9})]},
        {"device_id": device.device_id, "ops": [dict(op, op="retract")]},
        {"device_id": device.device_id, "ops": [dict(op, hlc="yesterday-at-noon-ok")]},
        {"device_id": device.device_id, "ops": [op] * (MAX_OPS_PER_PUSH + 1)},
        {"device_id": device.device_id},
    ]
    for body in cases:
        response = await http.post("/v1/sync/push", json=body, headers=device.headers)
        assert response.status_code == 422, body
        detail = response.json()["detail"]
        assert isinstance(detail, str)
        assert "\n" not in detail
    broken = await http.post(
        "/v1/sync/push",
        content=b"{not json",
        headers={**device.headers, "content-type": "application/json"},
    )
    assert broken.status_code == 422
    missing = await http.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}


async def test_each_token_is_rate_limited_with_retry_after(
    database_url: str, engine: sa.Engine
) -> None:
    settings = server_settings(database_url, rate_limit_per_minute=60, rate_limit_burst=3)
    app = create_app(settings, engine=engine, wall=Wall())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
        first = await enroll(http, engine, "mobile", SCHOOL_1)
        second = await enroll(http, engine, "mobile", SCHOOL_1)
        statuses = [
            (await http.get("/v1/sync/pull", headers=first.headers)).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await http.get("/v1/sync/pull", headers=first.headers)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert "too many requests" in limited.json()["detail"]
        assert (await http.get("/v1/sync/pull", headers=second.headers)).status_code == 200
        for _ in range(3):
            await http.post("/v1/devices/enroll", json={"code": "WRONG-CODE", "device_id": "x"})
        blocked = await http.post(
            "/v1/devices/enroll", json={"code": "WRONG-CODE", "device_id": "x"}
        )
        assert blocked.status_code == 429


async def test_health_and_openapi_are_published(http: httpx.AsyncClient) -> None:
    health = await http.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    document = (await http.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/v1/devices/enroll",
        "/v1/sync/push",
        "/v1/sync/pull",
        "/v1/admin/records/{record_id}",
    ):
        assert path in paths
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    push_errors = paths["/v1/sync/push"]["post"]["responses"]
    assert push_errors["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer not-a-token", "bearer  "])
async def test_bad_authorization_headers_are_401(http: httpx.AsyncClient, header: str) -> None:
    response = await http.get("/v1/sync/pull", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_text_no_database_can_store_is_refused_not_a_server_error(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    device = fleet.classroom_1a
    nul = device.op("incident", "inc-nul", incident_fields("st1", device.device_id, note="a\x00b"))
    response = await http.post(
        "/v1/sync/push", json={"device_id": device.device_id, "ops": [nul]}, headers=device.headers
    )
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]
    lone = b'{"code": "ABCD-EFGH", "device_id": "x", "device_name": "\\ud800"}'
    enroll_response = await http.post(
        "/v1/devices/enroll", content=lone, headers={"content-type": "application/json"}
    )
    assert enroll_response.status_code == 422
    pair = b'{"code": "ABCD-EFGH", "device_id": "x", "device_name": "\\ud83d\\ude00"}'
    emoji = await http.post(
        "/v1/devices/enroll", content=pair, headers={"content-type": "application/json"}
    )
    assert emoji.status_code == 403
    path = await http.get("/v1/admin/records/a%00b", headers=fleet.admin_1.headers)
    assert path.status_code == 422
