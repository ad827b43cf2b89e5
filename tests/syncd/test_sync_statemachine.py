"""A Hypothesis state machine: three devices (two teachers' and a mobile staff member's, the
last sending small batches two at a time), an administrator and faults on the wire. After every
step: invariant 1 (no Level 1 byte has left any device or is held by the server) and invariant 2
so far (everything the server holds is a Level 2 record of its owner, or one whose retraction is
queued). The ``quiet_and_converge`` step turns the faults off and checks that every device's view
equals the server's."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from synckit import STUDENT_IDS, Device, Fault, ManualClock, Network

from schema.models import TabKind
from schema.store import IncidentChanges, StoreError
from syncd.client import SyncError

MARK = "L1SECRET"
NAMES = ("teacher-a", "teacher-b", "mobile")
FAULTS = (None, None, "reset", "drop", "500")


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.network = Network(Path(self.folder.name), self.clock)
        self.devices: dict[str, Device] = {}
        for name in NAMES:
            staff = "staff-2" if name == "mobile" else "staff-1"
            self.devices[name] = self.network.device(name, staff_id=staff)
        pipelined = self.devices["mobile"].engine
        pipelined.pipeline_depth = 2
        pipelined.max_ops = 4
        self.counter = 0

    def teardown(self) -> None:
        self.loop.run_until_complete(self.network.close())
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
        student=st.sampled_from(STUDENT_IDS),
    )
    def log(self, name: str, level: int, student: str) -> None:
        self.clock.advance(1)
        note = self._marker() if level == 1 else f"level two {self.counter}"
        self.devices[name].log(level=level, note=note, student=student)

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
            changes = IncidentChanges(level=2, note=f"upgraded {self.counter}")
        else:
            changes = IncidentChanges(level=1, note=self._marker())
        device.store.edit_incident(incident.id, changes)

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

    @rule(name=st.sampled_from(NAMES), student=st.sampled_from(STUDENT_IDS), link=st.booleans())
    def take_a_break(self, name: str, student: str, link: bool) -> None:
        device = self.devices[name]
        own = self._own(device)
        linked = own[-1].id if link and own else None
        self.clock.advance(1)
        try:
            tab = device.store.start_tab(student, TabKind.SPOT, incident_id=linked)
        except StoreError:
            return
        self.clock.advance(60)
        device.store.stop_tab(tab.id, returned_ready=True)

    @rule(pick=st.integers(0, 50), where=st.sampled_from(["Gym", "Hallway", "Library"]))
    def admin_corrects(self, pick: int, where: str) -> None:
        live = sorted(self.network.district.live("incident"))
        if not live:
            return
        self.clock.advance(1)
        self.network.district.correct(live[pick % len(live)], {"location": where})

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
        held = json.dumps(
            [[r.id, r.fields] for r in self.network.district.records.values()]
        ).encode()
        assert MARK.encode() not in sent
        assert MARK.encode() not in held

    @invariant()
    def server_holds_only_what_owners_may_sync(self) -> None:
        owners = {device.store.device_id: device for device in self.devices.values()}
        for record_id, held in self.network.district.live("incident").items():
            owner = owners[held.owner]
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
        for device in self.devices.values():
            assert device.pending() == 0
            view = _level_2_view(device)
            for record_id, fields in view.items():
                held = self.network.district.records.get(record_id)
                assert held is not None, record_id
                assert not held.tombstone, record_id
                for name, value in fields.items():
                    assert held.fields.get(name) == value, (record_id, name)
        for record_id, held in self.network.district.live().items():
            for device in self.devices.values():
                row = device.sync_store.connection.execute(
                    f"SELECT 1 FROM {_table(held.kind)} WHERE id = ?", (record_id,)
                ).fetchone()
                assert row is not None, (record_id, held.kind)


def _table(kind: str) -> str:
    return {"incident": "incidents", "tab": "tab_events", "follow_up": "follow_ups"}[kind]


def _level_2_view(device: Device) -> dict[str, dict[str, Any]]:
    from schema.store import _row_wire

    connection = device.sync_store.connection
    view = {
        row["id"]: _row_wire("incident", row)
        for row in connection.execute("SELECT * FROM incidents WHERE level = 2")
    }
    for row in connection.execute(
        "SELECT f.* FROM follow_ups f JOIN incidents i ON i.id = f.incident_id WHERE i.level = 2"
    ):
        view[row["id"]] = _row_wire("follow_up", row)
    for row in connection.execute("SELECT * FROM tab_events"):
        fields = _row_wire("tab", row)
        if fields.get("incident_id") is not None:
            linked = connection.execute(
                "SELECT level FROM incidents WHERE id = ?", (fields["incident_id"],)
            ).fetchone()
            if linked is None or linked[0] != 2:
                fields["incident_id"] = None
        view[row["id"]] = fields
    return view


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
