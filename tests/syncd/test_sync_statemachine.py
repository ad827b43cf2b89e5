"""A Hypothesis state machine: three devices (two teachers' and a mobile staff member's, the
last sending small batches two at a time), an administrator and faults on the wire. After every
step: invariant 1 (no Level 1 byte has left any device or is held by the server) and invariant 2
so far (everything the server holds is a Level 2 record of its owner, or one whose retraction is
queued). The ``quiet_and_converge`` step turns the faults off and checks that every device's view
equals the server's.

It runs twice: against the in-memory fake server (fast, many examples), and against the real
district app (``district.app.create_app`` on SQLite, in-process) whose state is read through its
API, with three mobile devices of the demo school and the administrator's corrections sent as
``PATCH /v1/admin/records/{id}``."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from deviceview import TABLES, level_2_view
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from realapp import RealDistrict
from realworld import Templates, make_templates
from synckit import STUDENT_IDS, Device, Fault, ManualClock, Network

from schema.models import TabKind
from schema.store import IncidentChanges, StoreError
from syncd.client import SyncError

MARK = "L1SECRET"
NAMES = ("teacher-a", "teacher-b", "mobile")
FAULTS = (None, None, "reset", "drop", "500")
STUDENTS = (0, 1, 2)


class FakeServer:
    """The in-memory fake district (tests/syncd/syncd_fakeserver.py)."""

    def __init__(self, folder: Path, clock: ManualClock, loop: asyncio.AbstractEventLoop) -> None:
        self.network = Network(folder, clock)
        self.students = STUDENT_IDS

    def device(self, name: str) -> Device:
        staff = "staff-2" if name == "mobile" else "staff-1"
        return self.network.device(name, staff_id=staff)

    def live(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        """Record id -> (kind, owner device, fields) of every record the server holds."""
        return {
            key: (held.kind, held.owner, held.fields)
            for key, held in self.network.district.live().items()
        }

    def removed(self) -> set[str]:
        return {key for key, held in self.network.district.records.items() if held.tombstone}

    def held_bytes(self) -> bytes:
        return json.dumps(
            [[r.id, r.fields] for r in self.network.district.records.values()]
        ).encode()

    def correct(self, record_id: str, fields: dict[str, Any]) -> None:
        self.network.district.correct(record_id, fields)


_templates: list[Templates] = []


def demo_templates() -> Templates:
    """The demo roster in a district database and a device home, made once per session."""
    if not _templates:
        folder = Path(tempfile.mkdtemp(prefix="classlog-machine-"))
        _templates.append(make_templates(folder))
    return _templates[0]


class RealServer:
    """The real district app in-process; its state read through the administrator's API."""

    def __init__(self, folder: Path, clock: ManualClock, loop: asyncio.AbstractEventLoop) -> None:
        templates = demo_templates()
        self.loop = loop
        self.district = RealDistrict(folder, templates, clock)
        self.students = tuple(templates.student_ids[:3])
        self.clock = clock

    def device(self, name: str) -> Device:
        store, engine = self.loop.run_until_complete(self.district.device(name, self.clock))
        transport = engine.client._http._transport  # type: ignore[attr-defined]
        return Device(self.district.folder / name, store, engine.store, engine, transport)

    def live(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        state = self.loop.run_until_complete(self.district.state())
        owners = {
            key: held.fields["device_id"]
            for key, held in state.live.items()
            if held.kind != "follow_up"
        }
        return {
            key: (
                held.kind,
                owners.get(key) or owners.get(held.fields.get("incident_id"), ""),
                held.fields,
            )
            for key, held in state.live.items()
        }

    def removed(self) -> set[str]:
        return set(self.loop.run_until_complete(self.district.state()).removed)

    def held_bytes(self) -> bytes:
        state = self.loop.run_until_complete(self.district.state())
        database = Path(self.district.url.removeprefix("sqlite:///"))
        files = b"".join(
            path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists()
        )
        return json.dumps([[key, held.fields] for key, held in state.live.items()]).encode() + files

    def correct(self, record_id: str, fields: dict[str, Any]) -> None:
        response = self.loop.run_until_complete(
            self.district.admin_http.patch(
                f"/v1/admin/records/{record_id}",
                json={"fields": fields, "reason": "seen from the office"},
                headers={"Authorization": f"Bearer {self.district.admin_token}"},
            )
        )
        assert response.status_code == 200, response.text


class SyncMachine(RuleBasedStateMachine):
    server_kind: type[FakeServer] | type[RealServer] = FakeServer

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.server = self.server_kind(Path(self.folder.name), self.clock, self.loop)
        self.devices: dict[str, Device] = {}
        for name in NAMES:
            self.devices[name] = self.server.device(name)
        pipelined = self.devices["mobile"].engine
        pipelined.pipeline_depth = 2
        pipelined.max_ops = 4
        self.counter = 0

    def teardown(self) -> None:
        if isinstance(self.server, FakeServer):
            self.loop.run_until_complete(self.server.network.close())
        else:
            self.loop.run_until_complete(self.server.district.close())
            for device in self.devices.values():
                device.store.close()
        self.loop.close()
        self.folder.cleanup()

    def _run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def _marker(self) -> str:
        self.counter += 1
        return f"{MARK}-{self.counter:04d}"

    def _own(self, device: Device) -> list[Any]:
        return [
            incident
            for incident in device.store.incidents_between(*_all_time())
            if incident.device_id == device.store.device_id and incident.voided_at is None
        ]

    @rule(
        name=st.sampled_from(NAMES),
        level=st.sampled_from([1, 2]),
        student=st.sampled_from(STUDENTS),
    )
    def log(self, name: str, level: int, student: int) -> None:
        self.clock.advance(1)
        note = self._marker() if level == 1 else f"level two {self.counter}"
        reason = "asked for by Student Services" if level == 2 else None
        self.devices[name].log(
            level=level, note=note, student=self.server.students[student], bypass_reason=reason
        )

    @rule(name=st.sampled_from(NAMES), pick=st.integers(0, 50))
    def edit_note(self, name: str, pick: int) -> None:
        device = self.devices[name]
        own = self._own(device)
        if not own:
            return
        incident = own[pick % len(own)]
        self.clock.advance(1)
        note = self._marker() if incident.level == 1 else f"edited {self.counter}"
        device.store.edit_incident(incident.id, IncidentChanges(note=note))

    @rule(name=st.sampled_from(NAMES), pick=st.integers(0, 50))
    def change_level(self, name: str, pick: int) -> None:
        device = self.devices[name]
        own = self._own(device)
        if not own:
            return
        incident = own[pick % len(own)]
        self.clock.advance(1)
        if incident.level == 1:
            changes = IncidentChanges(
                level=2, note=f"upgraded {self.counter}", bypass_reason="raised by the test"
            )
        else:
            changes = IncidentChanges(level=1, note=self._marker())
        try:
            device.store.edit_incident(incident.id, changes)
        except StoreError:
            return

    @rule(name=st.sampled_from(NAMES), pick=st.integers(0, 50))
    def void(self, name: str, pick: int) -> None:
        device = self.devices[name]
        own = self._own(device)
        if not own:
            return
        incident = own[pick % len(own)]
        self.clock.advance(1)
        reason = self._marker() if incident.level == 1 else "logged in error"
        device.store.void_incident(incident.id, reason)

    @rule(name=st.sampled_from(NAMES), student=st.sampled_from(STUDENTS), link=st.booleans())
    def take_a_break(self, name: str, student: int, link: bool) -> None:
        device = self.devices[name]
        own = self._own(device)
        linked = own[-1].id if link and own else None
        self.clock.advance(1)
        try:
            tab = device.store.start_tab(
                self.server.students[student], TabKind.SPOT, incident_id=linked
            )
        except StoreError:
            return
        self.clock.advance(60)
        device.store.stop_tab(tab.id, returned_ready=True)

    @rule(pick=st.integers(0, 50), where=st.sampled_from(["Gym", "Hallway", "Library"]))
    def admin_corrects(self, pick: int, where: str) -> None:
        live = sorted(key for key, (kind, _, _) in self.server.live().items() if kind == "incident")
        if not live:
            return
        self.clock.advance(1)
        self.server.correct(live[pick % len(live)], {"location": where})

    @rule(name=st.sampled_from(NAMES), fault=st.sampled_from(FAULTS))
    def sync(self, name: str, fault: str | None) -> None:
        device = self.devices[name]
        if fault == "500":
            device.transport.faults.append(Fault("status", status=500))
        elif fault is not None:
            device.transport.faults.append(Fault(fault))
        self.clock.advance(1)
        try:
            self._run(device.engine.push())
            self._run(device.engine.pull())
        except SyncError:
            pass
        device.transport.faults.clear()

    @invariant()
    def no_level_1_byte_left_any_device(self) -> None:
        sent = b"".join(device.transport.sent_bytes() for device in self.devices.values())
        held = self.server.held_bytes()
        assert MARK.encode() not in sent
        assert MARK.encode() not in held

    @invariant()
    def server_holds_only_what_owners_may_sync(self) -> None:
        owners = {device.store.device_id: device for device in self.devices.values()}
        for record_id, (kind, owner_id, _) in self.server.live().items():
            if kind != "incident":
                continue
            owner = owners[owner_id]
            level = owner.store.incident(record_id).level
            if level != 2:
                retraction = owner.sync_store.connection.execute(
                    "SELECT 1 FROM outbox WHERE entity_id = ? AND op = 'retract'", (record_id,)
                ).fetchone()
                assert retraction is not None, record_id

    @precondition(lambda self: True)
    @rule()
    def quiet_and_converge(self) -> None:
        """Faults off, every device pushes and pulls until nothing moves; views match."""
        for _ in range(3):
            for device in self.devices.values():
                self._run(device.engine.push())
                self._run(device.engine.pull())
        live = self.server.live()
        for device in self.devices.values():
            assert device.pending() == 0
            view = level_2_view(device.sync_store.connection)
            for record_id, fields in view.items():
                assert record_id in live, record_id
                kind, _, held = live[record_id]
                assert {"kind": kind, **held} == fields, record_id
        for record_id, (kind, _, _) in live.items():
            for device in self.devices.values():
                row = device.sync_store.connection.execute(
                    f"SELECT 1 FROM {TABLES[kind]} WHERE id = ?", (record_id,)
                ).fetchone()
                assert row is not None, (record_id, kind)


def _all_time():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


SyncMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SYNC_MACHINE_EXAMPLES", "40")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_sync_state_machine_keeps_invariants_1_and_2 = SyncMachine.TestCase


class RealAppSyncMachine(SyncMachine):
    server_kind = RealServer


RealAppSyncMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SYNC_MACHINE_REAL_EXAMPLES", "10")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_sync_state_machine_on_the_real_app_keeps_invariants_1_and_2 = pytest.mark.slow(
    RealAppSyncMachine.TestCase
)
