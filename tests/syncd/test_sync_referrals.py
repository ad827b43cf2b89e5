"""Interventions (R5) and office referrals (R10) as synced kinds, device -> real district app ->
device: every field written out by hand in this file, the office's decision recorded by an
administrator through the API and pulled back by the referring device, and an intervention
answering a Level 1 record never leaving its device (R1), byte for byte."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from realapp import RealDistrict
from realworld import Templates
from recordfields import BY_KIND
from synckit import FaultTransport, ManualClock

from schema.models import IncidentDraft, InterventionDraft, InterventionKind
from schema.store import DeviceStore, IncidentChanges

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 10, 6, 15, 4, 5, 678000, tzinfo=UTC)
"""A Tuesday in the demo school year; the device's and the server's clocks both start here."""
STAFF = "staff-mobile-1"
STUDENT = "stu-0002"
OTHER_STUDENT = "stu-0003"
INTERVENTION_NOTE = 'Check-in/check-out with "Ms. Ünal", daily, comma, \\ backslash'
REFERRAL_NOTE = "Found in the locker during the search ✓"
LEVEL_1_MARK = "IVL1MARK-5c2e-never-leaves"


def at(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def _move(clock: ManualClock, seconds: int) -> None:
    clock.ms = int(START.timestamp() * 1000) + seconds * 1000


@pytest.fixture
async def real(tmp_path: Path, templates: Templates) -> AsyncIterator[RealDistrict]:
    district = RealDistrict(tmp_path, templates, ManualClock(int(START.timestamp() * 1000)))
    yield district
    await district.close()


def device_row(store: DeviceStore, table: str, record_id: str) -> dict[str, Any]:
    row = store.connection.execute(f"SELECT * FROM {table} WHERE id = ?", (record_id,)).fetchone()
    assert row is not None, (table, record_id)
    values = dict(zip(row.keys(), tuple(row), strict=True))
    if values.get("alternatives") is not None:
        values["alternatives"] = json.loads(values["alternatives"])
    for name in ("id", "origin", "hlc", "field_hlc"):
        values.pop(name, None)
    return values


async def test_interventions_and_referrals_arrive_as_written_and_the_decision_comes_back(
    real: RealDistrict,
) -> None:
    clock = real.clock
    store_a, engine_a = await real.device("device-a", clock, timezone=CHICAGO.key)
    store_b, engine_b = await real.device("device-b", clock, timezone=CHICAGO.key)
    device_a = store_a.device_id

    incident = store_a.log_incident(
        IncidentDraft(
            student_id=STUDENT,
            behavior_code="DIS-CLASS",
            level=2,
            occurred_at=datetime(2026, 10, 6, 9, 30, tzinfo=CHICAGO),
        )
    ).id
    _move(clock, 60)
    answering = store_a.add_intervention(
        InterventionDraft(
            student_id=STUDENT,
            behavior_code="DIS-CLASS",
            kind=InterventionKind.MONITORED_STRATEGY,
            starts_on=date(2026, 10, 6),
            review_on=date(2026, 10, 20),
            incident_id=incident,
            note=INTERVENTION_NOTE,
        )
    ).id
    _move(clock, 120)
    district_kind = store_a.add_intervention(
        InterventionDraft(
            student_id=OTHER_STUDENT,
            kind=InterventionKind.DISTRICT,
            kind_label="Lunch bunch",
        )
    ).id
    _move(clock, 180)
    store_a.void_intervention(district_kind, "recorded for the wrong student")
    _move(clock, 240)
    referral = store_a.refer_to_office(
        STUDENT,
        "wpn-other",
        occurred_at=datetime(2026, 10, 6, 9, 50, tzinfo=CHICAGO),
        location="Locker bay",
        note=REFERRAL_NOTE,
    ).id
    await engine_a.push()
    assert engine_a.store.pending_count() == 0
    await engine_b.pull()

    expected_interventions = {
        answering: {
            "student_id": STUDENT,
            "staff_id": STAFF,
            "device_id": device_a,
            "behavior_code": "DIS-CLASS",
            "kind": "monitored_strategy",
            "kind_label": "",
            "starts_on": "2026-10-06",
            "review_on": "2026-10-20",
            "incident_id": incident,
            "note": INTERVENTION_NOTE,
            "created_at": at(60),
            "updated_at": at(60),
            "voided_at": None,
            "void_reason": None,
        },
        district_kind: {
            "student_id": OTHER_STUDENT,
            "staff_id": STAFF,
            "device_id": device_a,
            "behavior_code": None,
            "kind": "district",
            "kind_label": "Lunch bunch",
            "starts_on": "2026-10-06",
            "review_on": "2026-10-20",
            "incident_id": None,
            "note": "",
            "created_at": at(120),
            "updated_at": at(180),
            "voided_at": at(180),
            "void_reason": "recorded for the wrong student",
        },
    }
    expected_referral: dict[str, Any] = {
        "student_id": STUDENT,
        "staff_id": STAFF,
        "device_id": device_a,
        "behavior_code": "WPN-OTHER",
        "occurred_at": "2026-10-06T14:50:00.000+00:00",
        "tz": "America/Chicago",
        "location": "Locker bay",
        "note": REFERRAL_NOTE,
        "created_at": at(240),
        "updated_at": at(240),
        "voided_at": None,
        "void_reason": None,
    }
    for values in expected_interventions.values():
        assert set(values) == BY_KIND["intervention"]
    undecided = {
        "decided_level": None,
        "oss_days": None,
        "alternatives": None,
        "decided_at": None,
    }
    assert set(expected_referral) | set(undecided) == BY_KIND["office_referral"]

    server = await real.state()
    assert server.of_kind("intervention") == expected_interventions
    assert server.of_kind("office_referral") == {referral: expected_referral}
    for record_id, values in expected_interventions.items():
        assert device_row(store_b, "interventions", record_id) == values
    assert device_row(store_b, "office_referrals", referral) == {**expected_referral, **undecided}

    _move(clock, 600)
    answer = await real.admin_http.post(
        f"/v1/admin/referrals/{referral}/decision",
        json={"level": 4, "oss_days": 3, "alternatives": ["Restorative circle", "Check-in plan"]},
        headers={"Authorization": f"Bearer {real.admin_token}"},
    )
    assert answer.status_code == 200, answer.text
    decided = {
        "decided_level": 4,
        "oss_days": 3.0,
        "alternatives": ["Restorative circle", "Check-in plan"],
        "decided_at": at(600),
    }
    assert answer.json()["fields"] == {**expected_referral, **decided}
    await engine_a.pull()
    await engine_b.pull()
    assert device_row(store_a, "office_referrals", referral) == {**expected_referral, **decided}
    assert device_row(store_b, "office_referrals", referral) == {**expected_referral, **decided}
    shown = store_a.office_referral(referral)
    assert shown.decision_words == (
        "Level 4: 3 days of OSS; alternatives to suspension offered: Restorative circle, "
        "Check-in plan"
    )
    await engine_a.push()
    server = await real.state()
    assert server.of_kind("office_referral") == {referral: {**expected_referral, **decided}}
    store_a.close()
    store_b.close()


def _district_bytes(real: RealDistrict) -> bytes:
    return b"".join(
        path.read_bytes() for path in sorted(real.folder.glob("district.db*")) if path.is_file()
    )


async def test_an_intervention_answering_a_level_1_record_never_leaves_the_device(
    real: RealDistrict,
) -> None:
    clock = real.clock
    store, engine = await real.device("device-a", clock, timezone=CHICAGO.key)
    private = store.log_incident(
        IncidentDraft(
            student_id=STUDENT,
            behavior_code="DIS-CLASS",
            level=1,
            occurred_at=datetime(2026, 10, 6, 9, 0, tzinfo=CHICAGO),
        )
    ).id
    _move(clock, 60)
    hidden = store.add_intervention(
        InterventionDraft(
            student_id=STUDENT,
            behavior_code="DIS-CLASS",
            kind=InterventionKind.RETEACHING,
            incident_id=private,
            note=LEVEL_1_MARK,
        )
    ).id
    assert store.sync_status().pending_count == 0
    await engine.push()
    await engine.pull()
    server = await real.state()
    assert hidden not in server.live
    assert hidden not in server.removed
    real.engine.dispose()
    assert LEVEL_1_MARK.encode() not in _district_bytes(real)
    assert hidden.encode() not in _district_bytes(real)
    transport = engine.client._http._transport
    assert isinstance(transport, FaultTransport)
    assert transport.sent
    assert LEVEL_1_MARK.encode() not in transport.sent_bytes()
    assert hidden.encode() not in transport.sent_bytes()

    _move(clock, 120)
    store.edit_incident(private, IncidentChanges(level=2))
    await engine.push()
    server = await real.state()
    assert server.fields(hidden)["note"] == LEVEL_1_MARK
    assert server.fields(hidden)["incident_id"] == private

    _move(clock, 180)
    store.edit_incident(private, IncidentChanges(level=1))
    await engine.push()
    server = await real.state()
    assert hidden not in server.live
    assert server.removed.get(hidden) == "intervention"
    assert server.removed.get(private) == "incident"
    real.engine.dispose()
    assert LEVEL_1_MARK.encode() not in _district_bytes(real)
    assert store.intervention(hidden).note == LEVEL_1_MARK
    store.close()
