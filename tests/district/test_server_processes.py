"""Real server processes: uvicorn over HTTP and TLS on 127.0.0.1, and two processes sharing one
database receiving the same pushes at once (no duplicate; no change skipped by a reader)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from serverkit import SCHOOL_1, ServerProcess, incident_fields, make_code
from serverstate import read_state_sync

from district.db import create_engine
from schema.clock import Timestamp

pytestmark = pytest.mark.e2e


def _enroll(
    base_url: str, engine: sa.Engine, device_id: str, role: str = "mobile", **client: Any
) -> dict[str, str]:
    code = make_code(engine, role, SCHOOL_1)
    response = httpx.post(
        f"{base_url}/v1/devices/enroll", json={"code": code, "device_id": device_id}, **client
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _op(device_id: str, number: int, wall_ms: int) -> dict[str, Any]:
    return {
        "op_id": f"{device_id}-op-{number}",
        "seq": number,
        "kind": "incident",
        "id": f"{device_id}-inc-{number}",
        "op": "upsert",
        "fields": incident_fields(f"st{1 + number % 6}", device_id),
        "hlc": Timestamp(wall_ms, number, device_id).encode(),
    }


def test_a_real_uvicorn_server_over_tls(sqlite_url: str, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    trusted = ssl.create_default_context(cafile=str(cert))
    engine = create_engine(sqlite_url)
    try:
        with ServerProcess(sqlite_url, certfile=cert, keyfile=key) as server:
            assert server.url.startswith("https://")
            health = httpx.get(f"{server.url}/healthz", verify=trusted)
            assert health.json()["status"] == "ok"
            headers = _enroll(server.url, engine, "tls-device", verify=trusted)
            with httpx.Client(base_url=server.url, verify=trusted, headers=headers) as client:
                wall = Timestamp.decode(
                    client.post(
                        "/v1/sync/push", json={"device_id": "tls-device", "ops": []}
                    ).json()["server_hlc"]
                ).wall_ms
                pushed = client.post(
                    "/v1/sync/push",
                    json={"device_id": "tls-device", "ops": [_op("tls-device", 1, wall)]},
                )
                assert pushed.json()["results"][0]["status"] == "applied"
                pulled = client.get("/v1/sync/pull", params={"limit": 1000}).json()
                assert "tls-device-inc-1" in {change["id"] for change in pulled["changes"]}
                assert client.get("/openapi.json").status_code == 200
    finally:
        engine.dispose()


def test_two_processes_on_one_database_apply_each_op_once_and_readers_skip_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        with ServerProcess(database_url) as first, ServerProcess(database_url) as second:
            servers = [first.url, second.url]
            writers = [f"writer-{n}" for n in range(3)]
            headers = {device: _enroll(first.url, engine, device) for device in writers}
            reader_headers = _enroll(second.url, engine, "reader")
            wall = int(
                Timestamp.decode(
                    httpx.post(
                        f"{first.url}/v1/sync/push",
                        json={"device_id": "reader", "ops": []},
                        headers=reader_headers,
                    ).json()["server_hlc"]
                ).wall_ms
            )
            rounds, per_push = 8, 20
            results: list[dict[str, Any]] = []
            lock = threading.Lock()

            def push(device: str, server: str, batch: int) -> None:
                ops = [_op(device, batch * per_push + n + 1, wall) for n in range(per_push)]
                with httpx.Client(base_url=server, headers=headers[device], timeout=60) as client:
                    response = client.post("/v1/sync/push", json={"device_id": device, "ops": ops})
                assert response.status_code == 200, response.text
                with lock:
                    results.extend(response.json()["results"])

            seen: dict[str, int] = {}
            stop = threading.Event()

            def read() -> None:
                cursor = 0
                with httpx.Client(
                    base_url=second.url, headers=reader_headers, timeout=60
                ) as client:
                    while True:
                        done = stop.is_set()
                        page = client.get(
                            "/v1/sync/pull", params={"cursor": cursor, "limit": 37}
                        ).json()
                        for change in page["changes"]:
                            assert change["cursor"] > cursor
                            if change["kind"] == "incident":
                                seen[change["id"]] = change["cursor"]
                        cursor = page["cursor"]
                        if done and not page["has_more"]:
                            return

            reader = threading.Thread(target=read)
            reader.start()
            threads = [
                threading.Thread(target=push, args=(device, server, batch))
                for batch in range(rounds)
                for device in writers
                for server in servers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            stop.set()
            reader.join(timeout=120)
            assert not reader.is_alive()
            admin = _enroll(first.url, engine, "admin", role="admin")
            token = admin["Authorization"].removeprefix("Bearer ")
            state = read_state_sync(second.url, token)
    finally:
        engine.dispose()
    held = [record_id for record_id in state.live if record_id.startswith("writer-")]
    total = len(writers) * rounds * per_push
    statuses = [result["status"] for result in results]
    assert len(statuses) == 2 * total
    assert statuses.count("applied") == total
    assert statuses.count("duplicate") == total
    assert len(held) == total
    assert state.changes == total
    assert len(seen) == total
