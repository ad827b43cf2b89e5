"""Invariant 1 in-process: every byte sent (URLs, headers, bodies) is captured by the transport
and searched for markers that only ever appeared in Level 1 content, across create, edit,
downgrade, upgrade, void, follow-ups, a linked Take a Break and retried requests."""

from __future__ import annotations

import json

from synckit import Fault, Network

from schema.models import TabKind
from schema.store import IncidentChanges


def _server_bytes(network: Network) -> bytes:
    held = [
        json.dumps([r.kind, r.id, r.fields, r.field_hlc]) for r in network.district.records.values()
    ]
    return "\n".join(held).encode() + b"\n".join(network.district.bodies)


async def _sync(device, rounds: int = 2) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        try:
            await device.engine.push()
            await device.engine.pull()
        except Exception:
            pass


async def test_no_level_1_byte_leaves_the_device(network: Network) -> None:
    device = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    markers: list[str] = []
    private_ids: list[str] = []

    def marker(name: str) -> str:
        text = f"L1MARK-{name}-7f3a"
        markers.append(text)
        return text

    created = device.log(level=1, note=marker("create"))
    private_ids.append(created)
    device.store.edit_incident(created, IncidentChanges(note=marker("edit"), location="Gym"))
    for follow_up in device.store.follow_ups_for(created):
        device.store.complete_follow_up(follow_up.id, note=marker("followup"))
    device.store.void_incident(device.log(level=1, note=marker("void-note")), marker("void"))
    tab = device.store.start_tab("stu-2", TabKind.OUT, incident_id=created, note="tab ok")
    device.store.stop_tab(tab.id, returned_ready=True, reflection="fine")
    device.transport.faults.extend([Fault("drop", path="push"), Fault("reset")])
    await _sync(device, rounds=3)

    upgraded = device.log(level=1, note=marker("before-upgrade"), student="stu-3")
    device.store.edit_incident(upgraded, IncidentChanges(note="now level 2 text"))
    device.store.edit_incident(upgraded, IncidentChanges(level=2))
    await _sync(device)

    downgraded = device.log(level=2, note="level 2 at first", student="stu-2")
    await _sync(device)
    device.store.edit_incident(downgraded, IncidentChanges(level=1))
    device.store.edit_incident(downgraded, IncidentChanges(note=marker("after-downgrade")))
    device.transport.faults.append(Fault("drop", path="push"))
    await _sync(device, rounds=3)
    await _sync(mobile)

    sent = device.transport.sent_bytes() + mobile.transport.sent_bytes()
    on_server = _server_bytes(network)
    for text in markers:
        assert text.encode() not in sent, text
        assert text.encode() not in on_server, text
    for private in private_ids:
        assert private.encode() not in sent
        assert private.encode() not in on_server
    assert network.district.records[tab.id].fields.get("incident_id") is None
    assert network.district.records[upgraded].fields["note"] == "now level 2 text"
    assert network.district.records[downgraded].tombstone
    assert device.pending() == 0
    assert downgraded not in {i.id for i in mobile.store.incidents_between(*_all_time())}


def _all_time():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
