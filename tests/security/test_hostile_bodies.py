"""Attack: hostile JSON bodies (nested deeper than any parser's recursion limit, with and
without a ``\\u`` escape) on every endpoint that takes a body. Each gets a 4xx and at most one
log line, never a server error or a traceback, authenticated or not."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from serverkit import Fleet, ServerProcess, make_code

from district.db import create_engine

DEPTH = 50_000


def hostile_bodies() -> dict[str, bytes]:
    arrays = "[" * DEPTH
    closes = "]" * DEPTH
    return {
        "nested arrays with an escape": f'{arrays}"\\u0041"{closes}'.encode(),
        "nested arrays": f"{arrays}1{closes}".encode(),
        "nested objects with an escape": ('{"a":' * DEPTH + '"\\u00e9"' + "}" * DEPTH).encode(),
        "nested inside a field": (
            '{"code":"ABCD-EFGH-JKLM-NPQR","device_id":' + arrays + '"\\ud83d"' + closes + "}"
        ).encode(),
        "nested 900 deep": ("[" * 900 + '"\\u0041"' + "]" * 900).encode(),
    }


def body_endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the published API that takes a request body, with path
    parameters filled in."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "some-id", path)))
    return sorted(found)


def test_the_published_api_has_the_body_taking_endpoints_this_suite_expects(app: FastAPI) -> None:
    endpoints = body_endpoints(app)
    for expected in (
        ("POST", "/v1/devices/enroll"),
        ("POST", "/v1/sync/push"),
        ("PUT", "/v1/admin/grid"),
        ("PATCH", "/v1/admin/records/some-id"),
        ("POST", "/v1/admin/enrollment-codes"),
    ):
        assert expected in endpoints


def _send(client: Any, method: str, path: str, body: bytes, token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.request(method, path, content=body, headers=headers)


@pytest.mark.parametrize("authenticated", [True, False], ids=["admin", "anonymous"])
async def test_hostile_bodies_get_a_4xx_on_every_body_taking_endpoint(
    http: httpx.AsyncClient, app: FastAPI, fleet: Fleet, authenticated: bool
) -> None:
    token = fleet.district_admin.token if authenticated else None
    answers = {}
    for method, path in body_endpoints(app):
        for name, body in hostile_bodies().items():
            response = await _send(http, method, path, body, token)
            answers[(method, path, name)] = response.status_code
    wrong = {where: status for where, status in answers.items() if not 400 <= status < 500}
    assert wrong == {}


@pytest.mark.e2e
def test_a_real_server_logs_at_most_one_line_and_no_traceback_per_hostile_body(
    sqlite_url: str, app: FastAPI
) -> None:
    engine = create_engine(sqlite_url)
    try:
        code = make_code(engine, "admin", None)
    finally:
        engine.dispose()
    endpoints = body_endpoints(app)
    sent = 0
    statuses: dict[tuple[str, str, str], int] = {}
    with ServerProcess(sqlite_url) as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            enrolled = client.post(
                "/v1/devices/enroll", json={"code": code, "device_id": "attack-admin"}
            )
            assert enrolled.status_code == 200, enrolled.text
            token = enrolled.json()["token"]
            for method, path in endpoints:
                for name, body in hostile_bodies().items():
                    response = _send(client, method, path, body, token)
                    statuses[(method, path, name)] = response.status_code
                    sent += 1
        assert server.process is not None
        server.process.terminate()
        server.process.wait(timeout=30)
        assert server.process.stderr is not None
        log = server.process.stderr.read().decode(errors="replace")
    assert {where: s for where, s in statuses.items() if not 400 <= s < 500} == {}
    assert "Traceback" not in log
    assert "RecursionError" not in log
    assert len([line for line in log.splitlines() if line.strip()]) <= sent
