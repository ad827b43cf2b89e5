"""Attack: an administrator's correction that the server keeps but devices never take (so the
two differ for good). Every correction either reaches the owning device through a real device
store and sync engine, or is refused with a reason and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from serverkit import SCHOOL_1, SECTION_1A, Fleet, make_code, world_roster

from classlog.device_commands import import_roster as import_device_roster
from district.devices import enroll
from schema.models import IncidentDraft
from schema.roster import read_roster
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import EnrollRequest
from syncd.client import SyncClient
from syncd.engine import SyncEngine


@dataclass
class RealDevice:
    store: DeviceStore
    engine: SyncEngine

    async def sync(self) -> None:
        await self.engine.push()
        await self.engine.pull()


@pytest.fixture
async def teacher(app: FastAPI, engine: sa.Engine, tmp_path: Path) -> AsyncIterator[RealDevice]:
    """A real device home with the world roster, teacher t1, enrolled for section 1a."""
    home = tmp_path / "teacher"
    store = DeviceStore.open(home)
    import_device_roster(store, read_roster(world_roster().write(tmp_path / "roster")))
    store.set_config(staff_id="t1", timezone="America/Chicago")
    code = make_code(engine, "classroom", SCHOOL_1, (SECTION_1A,), "t1")
    token = enroll(
        engine, EnrollRequest(code=code, device_id=store.device_id), datetime.now(UTC)
    ).token
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://d.test")
    sync = SyncEngine(SyncStore.open(home), SyncClient("http://d.test", token, http=http))
    try:
        yield RealDevice(store, sync)
    finally:
        await http.aclose()
        sync.close()
        sync.store.close()
        store.close()


async def _correct(
    http: httpx.AsyncClient, admin: dict[str, str], record_id: str, **fields: Any
) -> httpx.Response:
    return await http.patch(
        f"/v1/admin/records/{record_id}",
        json={"fields": fields, "reason": "office review"},
        headers=admin,
    )


async def _server_fields(
    http: httpx.AsyncClient, admin: dict[str, str], record_id: str
) -> dict[str, Any]:
    response = await http.get(f"/v1/admin/records/{record_id}", headers=admin)
    assert response.status_code == 200, response.text
    fields: dict[str, Any] = response.json()["fields"]
    return fields


async def _voided_incident(device: RealDevice) -> str:
    draft = IncidentDraft(student_id="st1", behavior_code="DIS-CLASS", level=2, note="first")
    incident = device.store.log_incident(draft)
    device.store.void_incident(incident.id, "logged for the wrong student")
    await device.sync()
    return incident.id


async def test_a_corrected_void_reason_reaches_the_owning_device(
    http: httpx.AsyncClient, fleet: Fleet, teacher: RealDevice
) -> None:
    record_id = await _voided_incident(teacher)
    corrected = await _correct(
        http, fleet.admin_1.headers, record_id, void_reason="entered twice by mistake"
    )
    assert corrected.status_code == 200, corrected.text
    await teacher.sync()
    held = teacher.store.incident(record_id)
    assert held.void_reason == "entered twice by mistake"
    assert held.voided_at is not None
    server = await _server_fields(http, fleet.admin_1.headers, record_id)
    assert server["void_reason"] == held.void_reason


@pytest.mark.parametrize(
    "fields",
    [
        {"voided_at": None, "void_reason": None},
        {"voided_at": None},
        {"void_reason": None},
    ],
    ids=["un-void-both", "un-void", "drop-reason"],
)
async def test_undoing_a_void_is_refused_with_a_reason_and_changes_nothing(
    http: httpx.AsyncClient, fleet: Fleet, teacher: RealDevice, fields: dict[str, Any]
) -> None:
    record_id = await _voided_incident(teacher)
    before = await _server_fields(http, fleet.admin_1.headers, record_id)
    refused = await _correct(http, fleet.admin_1.headers, record_id, **fields)
    assert refused.status_code in (409, 422), refused.text
    assert "void" in refused.json()["detail"]
    assert await _server_fields(http, fleet.admin_1.headers, record_id) == before


async def test_a_void_reason_without_a_void_is_refused(
    http: httpx.AsyncClient, fleet: Fleet, teacher: RealDevice
) -> None:
    incident = teacher.store.log_incident(
        IncidentDraft(student_id="st1", behavior_code="DIS-CLASS", level=2)
    )
    await teacher.sync()
    refused = await _correct(http, fleet.admin_1.headers, incident.id, void_reason="because")
    assert refused.status_code == 422
    voided = await _correct(
        http,
        fleet.admin_1.headers,
        incident.id,
        voided_at=datetime.now(UTC).isoformat(),
        void_reason="voided by the office",
    )
    assert voided.status_code == 200, voided.text
    await teacher.sync()
    held = teacher.store.incident(incident.id)
    assert held.voided_at is not None
    assert held.void_reason == "voided by the office"


async def test_moving_a_record_to_a_student_its_device_cannot_hold_is_refused(
    http: httpx.AsyncClient, fleet: Fleet, teacher: RealDevice
) -> None:
    incident = teacher.store.log_incident(
        IncidentDraft(student_id="st1", behavior_code="DIS-CLASS", level=2)
    )
    await teacher.sync()
    outside_sections = await _correct(http, fleet.admin_1.headers, incident.id, student_id="st5")
    assert outside_sections.status_code == 422
    assert "owning device" in outside_sections.json()["detail"]
    inside = await _correct(http, fleet.admin_1.headers, incident.id, student_id="st2")
    assert inside.status_code == 200, inside.text
    await teacher.sync()
    assert teacher.store.incident(incident.id).student_id == "st2"


async def test_corrections_of_every_content_field_reach_the_device(
    http: httpx.AsyncClient, fleet: Fleet, teacher: RealDevice
) -> None:
    incident = teacher.store.log_incident(
        IncidentDraft(student_id="st1", behavior_code="DIS-CLASS", level=2, actions=["redirect"])
    )
    await teacher.sync()
    corrections: dict[str, Any] = {
        "behavior_code": "DIS-CLASS",
        "note": "corrected note",
        "location": "Hallway",
        "motivation": "avoid task",
        "others_involved": "peers",
        "actions": ["redirect", "support_staff"],
        "occurred_at": "2026-09-14T15:30:00.000+00:00",
        "bypass_reason": "office decision",
    }
    for name, value in corrections.items():
        response = await _correct(http, fleet.admin_1.headers, incident.id, **{name: value})
        assert response.status_code in (200, 409), (name, response.text)
    await teacher.sync()
    server = await _server_fields(http, fleet.admin_1.headers, incident.id)
    held = teacher.store.incident(incident.id).model_dump(mode="json")
    for name in corrections:
        device_value = held.get(name)
        if name == "occurred_at":
            device_value = datetime.fromisoformat(device_value).astimezone(UTC)
            assert device_value == datetime.fromisoformat(server[name]).astimezone(UTC)
        else:
            assert device_value == server[name], name
