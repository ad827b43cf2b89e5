"""Device -> server -> device: records with every synced field set to a distinctive value are
logged, edited and voided on device A, pushed to the real district app, pulled by device B (a
mobile device of the same school) and by an administrator, and every field is compared with a
value written out in this file. Nothing here derives an expected value from the code under
test, so a field dropped, renamed or re-encoded anywhere on the way fails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from realapp import RealDistrict
from realworld import Templates
from recordfields import BY_KIND
from synckit import ManualClock

from schema.models import Action, FollowUpKind, IncidentDraft, IssSafeguards, StartedBy, TabKind
from schema.store import DeviceStore, IncidentChanges

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 10, 6, 15, 4, 5, 678000, tzinfo=UTC)
"""A Tuesday in the demo school year; the device's and the server's clocks both start here."""
STAFF = "staff-mobile-1"
IEP_STUDENT = "stu-0006"
OTHER_IEP_STUDENT = "stu-0011"
STUDENT = "stu-0002"
NOTE = 'Round trip: ünïcödé ✓ "quoted", comma, \\ backslash'
EDITED_NOTE = "Edited after the first push"
BYPASS_REASON = "Student Services asked for Level 2 straight away"
TAB_NOTE = "Buddy room B-12"
REFLECTION = "Wrote what happened and what to do next time"
FAMILY_NOTE = "Called home at 10:05, spoke with grandmother"


def at(seconds: int) -> str:
    """The wire text of START plus ``seconds``."""
    return (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


@pytest.fixture
async def real(tmp_path: Path, templates: Templates) -> AsyncIterator[RealDistrict]:
    district = RealDistrict(tmp_path, templates, ManualClock(int(START.timestamp() * 1000)))
    yield district
    await district.close()


def _move(clock: ManualClock, seconds: int) -> None:
    clock.ms = int(START.timestamp() * 1000) + seconds * 1000


def device_row(store: DeviceStore, table: str, record_id: str) -> dict[str, Any]:
    """A device's stored record, its JSON text columns parsed, without the device's own
    bookkeeping (id, origin, clocks)."""
    row = store.connection.execute(f"SELECT * FROM {table} WHERE id = ?", (record_id,)).fetchone()
    assert row is not None, (table, record_id)
    values = dict(zip(row.keys(), tuple(row), strict=True))
    for name in ("actions", "iss_safeguards"):
        if name in values and values[name] is not None:
            values[name] = json.loads(values[name])
    for name in ("id", "origin", "hlc", "field_hlc"):
        values.pop(name, None)
    return values


async def test_every_field_of_every_kind_arrives_on_another_device_as_written(
    real: RealDistrict,
) -> None:
    clock = real.clock
    store_a, engine_a = await real.device("device-a", clock, timezone=CHICAGO.key)
    store_b, engine_b = await real.device("device-b", clock, timezone=CHICAGO.key)
    device_a = store_a.device_id

    store_a.log_incident(
        IncidentDraft(
            student_id=IEP_STUDENT,
            behavior_code="DIS-CLASS",
            level=1,
            occurred_at=datetime(2026, 10, 6, 8, 15, tzinfo=CHICAGO),
            note="a Level 1 with no intervention, so the Level 2 below is a bypass",
        )
    )
    _move(clock, 60)
    full = store_a.log_incident(
        IncidentDraft(
            student_id=IEP_STUDENT,
            behavior_code="DIS-CLASS",
            level=2,
            actions=[Action.ISS, Action.REDIRECT],
            occurred_at=datetime(2026, 10, 6, 9, 30, tzinfo=CHICAGO),
            location="Cafeteria",
            motivation="Avoid peer(s)",
            others_involved="Substitute",
            note=NOTE,
            iss_days=0.5,
            iss_safeguards=IssSafeguards(
                school_work=True, special_education_services=True, peer_without_disability=True
            ),
            group_id="group-roundtrip-7",
            bypass_reason=BYPASS_REASON,
        )
    ).id
    _move(clock, 120)
    removal = store_a.log_incident(
        IncidentDraft(
            student_id=OTHER_IEP_STUDENT,
            behavior_code="DIS-CLASS",
            level=2,
            actions=[Action.ISS],
            occurred_at=datetime(2026, 10, 6, 9, 45, tzinfo=CHICAGO),
            location="Hallway",
            motivation="Obtain adult attention",
            others_involved="Teacher",
            note="an ISS without the safeguards is recorded as a removal",
        )
    ).id
    await engine_a.push()
    await engine_b.pull()

    _move(clock, 180)
    store_a.edit_incident(
        full, IncidentChanges(note=EDITED_NOTE, location="Library", others_involved="Peers")
    )
    _move(clock, 240)
    store_a.edit_incident(full, IncidentChanges(actions=[Action.ISS]))
    follow_ups = {item.kind: item.id for item in store_a.follow_ups_for(full)}
    _move(clock, 300)
    store_a.complete_follow_up(follow_ups[FollowUpKind.FAMILY_CONTACT], note=FAMILY_NOTE)
    _move(clock, 360)
    tab = store_a.start_tab(
        IEP_STUDENT, TabKind.OUT_AND_BACK, StartedBy.STUDENT, incident_id=full, note=TAB_NOTE
    ).id
    _move(clock, 480)
    store_a.stop_tab(tab, returned_ready=False, reflection=REFLECTION)
    _move(clock, 540)
    spot = store_a.start_tab(STUDENT, TabKind.SPOT, StartedBy.TEACHER).id
    _move(clock, 600)
    store_a.void_tab(spot, "started for the wrong student")
    _move(clock, 660)
    store_a.void_incident(removal, "logged for the wrong student")
    removal_follow_ups = {item.kind: item.id for item in store_a.follow_ups_for(removal)}
    await engine_a.push()
    assert engine_a.store.pending_count() == 0
    await engine_b.pull()

    expected_incidents: dict[str, dict[str, Any]] = {
        full: {
            "student_id": IEP_STUDENT,
            "staff_id": STAFF,
            "device_id": device_a,
            "behavior_code": "DIS-CLASS",
            "level": 2,
            "actions": ["iss"],
            "occurred_at": "2026-10-06T14:30:00.000+00:00",
            "tz": "America/Chicago",
            "location": "Library",
            "motivation": "Avoid peer(s)",
            "others_involved": "Peers",
            "note": EDITED_NOTE,
            "iss_days": 0.5,
            "removal_minutes": None,
            "iss_safeguards": {
                "school_work": True,
                "special_education_services": True,
                "peer_without_disability": True,
            },
            "iss_recorded_as_removal": False,
            "advised_level": 1,
            "progression_bypassed": True,
            "bypass_reason": BYPASS_REASON,
            "group_id": "group-roundtrip-7",
            "created_at": at(60),
            "updated_at": at(240),
            "voided_at": None,
            "void_reason": None,
        },
        removal: {
            "student_id": OTHER_IEP_STUDENT,
            "staff_id": STAFF,
            "device_id": device_a,
            "behavior_code": "DIS-CLASS",
            "level": 2,
            "actions": ["removal"],
            "occurred_at": "2026-10-06T14:45:00.000+00:00",
            "tz": "America/Chicago",
            "location": "Hallway",
            "motivation": "Obtain adult attention",
            "others_involved": "Teacher",
            "note": "an ISS without the safeguards is recorded as a removal",
            "iss_days": 1.0,
            "removal_minutes": None,
            "iss_safeguards": None,
            "iss_recorded_as_removal": True,
            "advised_level": 1,
            "progression_bypassed": False,
            "bypass_reason": None,
            "group_id": None,
            "created_at": at(120),
            "updated_at": at(660),
            "voided_at": at(660),
            "void_reason": "logged for the wrong student",
        },
    }

    due = {
        "family_contact": "2026-10-08T04:59:00.000+00:00",
        "corrective_feedback": "2026-10-08T04:59:00.000+00:00",
        "student_version": "2026-10-08T04:59:00.000+00:00",
        "repair_plan": "2026-10-10T04:59:00.000+00:00",
    }

    def follow_up(incident: str, kind: str, created: int, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "incident_id": incident,
            "kind": kind,
            "created_at": at(created),
            "due_at": due[kind],
            "done_at": None,
            "done_by": None,
            "note": "",
            "voided_at": None,
        }
        values.update(changes)
        return values

    expected_follow_ups = {
        follow_ups[FollowUpKind.FAMILY_CONTACT]: follow_up(
            full, "family_contact", 60, done_at=at(300), done_by=STAFF, note=FAMILY_NOTE
        ),
        follow_ups[FollowUpKind.CORRECTIVE_FEEDBACK]: follow_up(
            full, "corrective_feedback", 60, voided_at=at(240)
        ),
        follow_ups[FollowUpKind.STUDENT_VERSION]: follow_up(full, "student_version", 60),
        follow_ups[FollowUpKind.REPAIR_PLAN]: follow_up(full, "repair_plan", 60),
        removal_follow_ups[FollowUpKind.FAMILY_CONTACT]: follow_up(
            removal, "family_contact", 120, voided_at=at(660)
        ),
        removal_follow_ups[FollowUpKind.STUDENT_VERSION]: follow_up(
            removal, "student_version", 120, voided_at=at(660)
        ),
        removal_follow_ups[FollowUpKind.REPAIR_PLAN]: follow_up(
            removal, "repair_plan", 120, voided_at=at(660)
        ),
    }
    expected_tabs = {
        tab: {
            "student_id": IEP_STUDENT,
            "staff_id": STAFF,
            "device_id": device_a,
            "kind": "out_and_back",
            "started_by": "student",
            "started_at": at(360),
            "ended_at": at(480),
            "returned_ready": False,
            "reflection": REFLECTION,
            "incident_id": full,
            "note": TAB_NOTE,
            "tz": "America/Chicago",
            "voided_at": None,
            "void_reason": None,
        },
        spot: {
            "student_id": STUDENT,
            "staff_id": STAFF,
            "device_id": device_a,
            "kind": "spot",
            "started_by": "teacher",
            "started_at": at(540),
            "ended_at": None,
            "returned_ready": None,
            "reflection": None,
            "incident_id": None,
            "note": "",
            "tz": "America/Chicago",
            "voided_at": at(600),
            "void_reason": "started for the wrong student",
        },
    }
    expected = {
        "incident": expected_incidents,
        "follow_up": expected_follow_ups,
        "tab": expected_tabs,
    }
    for kind, records in expected.items():
        for values in records.values():
            assert set(values) == BY_KIND[kind], kind

    server = await real.state()
    for kind, records in expected.items():
        assert server.of_kind(kind) == records, kind

    tables = {"incident": "incidents", "follow_up": "follow_ups", "tab": "tab_events"}
    as_stored = {
        "iss_recorded_as_removal": int,
        "progression_bypassed": int,
        "returned_ready": lambda value: None if value is None else int(value),
    }
    for kind, records in expected.items():
        for record_id, values in records.items():
            stored = {
                name: as_stored[name](value) if name in as_stored else value  # type: ignore[operator]
                for name, value in values.items()
            }
            assert device_row(store_b, tables[kind], record_id) == stored, (kind, record_id)
    origins = store_b.connection.execute(
        "SELECT DISTINCT origin FROM incidents WHERE device_id = ?", (device_a,)
    ).fetchall()
    assert [row[0] for row in origins] == ["remote"]
    level_1 = store_b.connection.execute(
        "SELECT count(*) FROM incidents WHERE level = 1"
    ).fetchone()[0]
    assert level_1 == 0
    store_a.close()
    store_b.close()
