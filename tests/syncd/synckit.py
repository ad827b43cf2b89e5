"""Test kit for the daemon: devices with a roster, a fault-injecting httpx
transport around an ASGI app, and an injectable clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from syncd_fakeserver import FakeDistrict, create_fake_app

from schema.models import IncidentDraft, Section, Staff, Student
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from syncd.client import SyncClient
from syncd.engine import SyncEngine

STUDENT_IDS = ("stu-1", "stu-2", "stu-3")
BEHAVIOR = "DIS-CLASS"
BASE_WALL_MS = 1_795_000_000_000


class ManualClock:
    """Milliseconds since the epoch that a test moves by hand."""

    def __init__(self, start_ms: int = BASE_WALL_MS) -> None:
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@dataclass
class Fault:
    """What the transport does to one request: ``reset`` before it reaches the server,
    ``drop`` the reply after the server handled it, ``status`` instead of the server,
    ``delay`` seconds first."""

    kind: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str = ""


class FaultTransport(httpx.AsyncBaseTransport):
    """Wraps a transport; records every byte sent (URL, headers and body) and every push answer
    the server gave (also the ones a fault then threw away), and injects faults."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.faults: list[Fault] = []
        self.sent: list[bytes] = []
        self.requests = 0
        self.push_answers: list[dict[str, Any]] = []

    def op_statuses(self) -> dict[str, list[str]]:
        """Op id -> every status the server answered for it, in order."""
        statuses: dict[str, list[str]] = {}
        for answer in self.push_answers:
            for result in answer.get("results", []):
                statuses.setdefault(result["op_id"], []).append(result["status"])
        return statuses

    def sent_bytes(self) -> bytes:
        return b"\n".join(self.sent)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        head = f"{request.method} {request.url}\n" + "".join(
            f"{name}: {value}\n" for name, value in request.headers.items()
        )
        self.sent.append(head.encode() + body)
        self.requests += 1
        fault = None
        for candidate in self.faults:
            if not candidate.path or candidate.path in request.url.path:
                fault = candidate
                self.faults.remove(candidate)
                break
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.kind == "reset":
            raise httpx.ConnectError("connection reset by fault", request=request)
        if fault is not None and fault.kind == "status":
            return httpx.Response(
                fault.status,
                json={"detail": f"injected {fault.status}"},
                headers=fault.headers,
                request=request,
            )
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/sync/push"):
            await response.aread()
            if response.status_code == 200:
                self.push_answers.append(json.loads(response.content))
        if fault is not None and fault.kind == "drop":
            await response.aread()
            raise httpx.ReadError("reply lost after the server committed", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def seed_roster(store: DeviceStore, staff_id: str = "staff-1") -> None:
    store.replace_roster(
        orgs=[("school-1", "Demo Middle", "school")],
        staff=[
            Staff(sourced_id="staff-1", given_name="Tia", family_name="Teacher", role="teacher"),
            Staff(sourced_id="staff-2", given_name="Mo", family_name="Mobile", role="aide"),
        ],
        students=[
            Student(sourced_id=sid, given_name=f"S{n}", family_name="Kid", grade="06")
            for n, sid in enumerate(STUDENT_IDS)
        ],
        sections=[Section(sourced_id="sec-1", title="Math 6")],
        enrollments=[("sec-1", sid, "student") for sid in STUDENT_IDS]
        + [("sec-1", "staff-1", "teacher")],
    )
    store.set_config(staff_id=staff_id)


@dataclass
class Device:
    """One device: its user-facing store (the TUI's), the daemon's store and engine."""

    home: Path
    store: DeviceStore
    sync_store: SyncStore
    engine: SyncEngine
    transport: FaultTransport

    def log(self, level: int = 2, note: str = "", student: str = "stu-1", **extra: Any) -> str:
        """Log a record; a repeat going up a level without an intervention (a bypass) carries
        a reason, as the plan asks (R5)."""
        extra.setdefault("bypass_reason", "logged by the test")
        draft = IncidentDraft(
            student_id=student, behavior_code=BEHAVIOR, level=level, note=note, **extra
        )
        return self.store.log_incident(draft).id

    def pending(self) -> int:
        return self.sync_store.pending_count()


class Network:
    """A fake district and the devices talking to it in-process."""

    def __init__(self, tmp_path: Path, clock: ManualClock | None = None) -> None:
        self.tmp_path = tmp_path
        self.server_clock = clock or ManualClock()
        self.district = FakeDistrict(self.server_clock)
        self.app = create_fake_app(self.district)
        self.devices: list[Device] = []

    def device(
        self,
        name: str = "teacher",
        *,
        wall: Callable[[], int] | None = None,
        staff_id: str = "staff-1",
        keepalive: bool = True,
        home: Path | None = None,
    ) -> Device:
        home = home or self.tmp_path / name
        device_wall = wall or self.server_clock
        store = DeviceStore.open(home, wall=device_wall)
        seed_roster(store, staff_id)
        sync_store = SyncStore.open(home, wall=device_wall)
        token = self.district.token_for(sync_store.device_id)
        transport = FaultTransport(httpx.ASGITransport(app=self.app))
        http = httpx.AsyncClient(transport=transport, base_url="http://district.test")
        client = SyncClient(
            "http://district.test", token, http=http, wall=device_wall, keepalive=keepalive
        )
        engine = SyncEngine(sync_store, client)
        device = Device(home, store, sync_store, engine, transport)
        self.devices.append(device)
        return device

    async def close(self) -> None:
        for device in self.devices:
            await device.engine.client._http.aclose()
            device.engine.close()
            device.sync_store.close()
            device.store.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def network(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Network]:
    net = Network(tmp_path, clock)
    yield net
    await net.close()
