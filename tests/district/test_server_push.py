"""Push: one transaction, deduplicated per (device, op id), per-field last-writer-wins by HLC,
Level 1 refused per op, clocks ahead refused, tombstones that a stale push cannot undo."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from serverkit import (
    SCHOOL_1,
    DeviceClient,
    Fleet,
    enroll,
    follow_up_fields,
    incident_fields,
    tab_fields,
)
from serverstate import ServerState, read_state, record_detail

from schema.clock import Timestamp
from schema.wire import MAX_CLOCK_AHEAD_MS


async def _state(fleet: Fleet) -> ServerState:
    """Every record, as the district administrator pulls them."""
    return await read_state(fleet.district_admin.http, fleet.district_admin.token)


async def _fields(fleet: Fleet, record_id: str) -> dict[str, Any]:
    return (await _state(fleet)).fields(record_id)


async def _detail(fleet: Fleet, record_id: str) -> dict[str, Any] | None:
    """A live record with its per-field clocks and superseded values, or None."""
    return await record_detail(fleet.district_admin.http, fleet.district_admin.token, record_id)


def _assert_stored_tombstone_keeps_no_content(engine: sa.Engine, record_id: str) -> None:
    """A storage check, like the byte greps: the API cannot show what a row still holds, so
    this one reads the server's tables. A tombstone's row has only its id, owner, school and
    clocks; every content column is NULL."""
    from district import tables

    with engine.connect() as connection:
        rows = [
            dict(row)
            for table in tables.RECORD_TABLES.values()
            for row in connection.execute(sa.select(table).where(table.c.id == record_id))
            .mappings()
            .all()
        ]
    assert len(rows) == 1, f"no single record {record_id}"
    metadata = {"id", "owner_device_id", "school_id", "tombstone", "tombstone_hlc", "cursor"}
    kept = {name for name, value in rows[0].items() if value is not None} - metadata
    assert kept <= {"stored_at", "changed_at"}, f"a tombstone keeps content: {kept}"


async def test_ops_apply_once_and_a_resent_op_is_a_duplicate(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    create = device.op("incident", "inc-1", incident_fields("st1", device.device_id))
    edit = device.op("incident", "inc-1", {"note": "edited"})
    body = await device.push(create, create, edit)
    assert [r["status"] for r in body["results"]] == ["applied", "duplicate", "applied"]
    before = await _state(fleet)
    assert await device.statuses(create, edit) == ["duplicate", "duplicate"]
    after = await read_state(fleet.district_admin.http, fleet.district_admin.token, before.cursor)
    assert after.changes == 0
    assert before.fields("inc-1")["note"] == "edited"
    detail = await _detail(fleet, "inc-1")
    assert detail is not None
    assert [(value["field"], value["value"]) for value in detail["superseded"]] == [("note", "")]
    assert Timestamp.decode(body["server_hlc"]) > Timestamp.decode(create["hlc"])


async def test_level_1_content_is_refused_per_op_and_never_stored(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    level_1 = device.op(
        "incident", "inc-l1", incident_fields("st1", device.device_id, level=1, note="L1-SECRET")
    )
    good = device.op("incident", "inc-l2", incident_fields("st1", device.device_id))
    body = await device.push(level_1, good)
    first, second = body["results"]
    assert first["status"] == "rejected"
    assert first["retry"] is False
    assert "Level 1" in first["reason"]
    assert second["status"] == "applied"
    state = await _state(fleet)
    assert "inc-l1" not in state.live
    assert "inc-l1" not in state.removed
    assert await _detail(fleet, "inc-l1") is None
    downgrade = device.op("incident", "inc-l2", {"level": 1})
    assert await device.statuses(downgrade) == ["rejected"]
    assert (await _fields(fleet, "inc-l2"))["level"] == 2


async def test_per_field_last_writer_wins_and_the_loser_is_kept_for_audit(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    create = device.op(
        "incident", "inc-lww", incident_fields("st1", device.device_id, note="first")
    )
    newer_hlc = device.stamp(1000)
    older_hlc = device.hlc_at(-60_000)
    newer = device.op(
        "incident", "inc-lww", {"note": "newer", "location": "Hallway"}, hlc=newer_hlc
    )
    older = device.op("incident", "inc-lww", {"note": "older"}, hlc=older_hlc)
    mixed = device.op(
        "incident", "inc-lww", {"note": "stale", "motivation": "Unknown"}, hlc=device.hlc_at(500)
    )
    assert await device.statuses(create, newer, older, mixed) == [
        "applied",
        "applied",
        "superseded",
        "applied",
    ]
    record = await _detail(fleet, "inc-lww")
    assert record is not None
    fields = record["fields"]
    assert fields["note"] == "newer"
    assert fields["location"] == "Hallway"
    assert fields["motivation"] == "Unknown"
    assert record["field_hlc"]["note"] == newer_hlc
    assert (await _state(fleet)).live["inc-lww"].field_hlc["note"] == newer_hlc
    audit = record["superseded"]
    assert len(audit) == 4
    assert {(row["field"], row["value"]) for row in audit} == {
        ("note", "first"),
        ("location", "Classroom"),
        ("note", "older"),
        ("note", "stale"),
    }


async def test_equal_clock_times_are_ordered_by_node_id(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    await device.push(device.op("incident", "inc-tie", incident_fields("st1", device.device_id)))
    wall = device.last.wall_ms + 10
    low = Timestamp(wall, 0, device.device_id[:-1] + "0").encode()
    high = Timestamp(wall, 0, device.device_id + "z").encode()
    assert low < high
    later_in_order = device.op("incident", "inc-tie", {"note": "high node"}, hlc=high)
    earlier_in_order = device.op("incident", "inc-tie", {"note": "low node"}, hlc=low)
    assert await device.statuses(later_in_order, earlier_in_order) == ["applied", "superseded"]
    assert (await _fields(fleet, "inc-tie"))["note"] == "high node"


async def test_a_clock_more_than_five_minutes_ahead_is_refused_for_retry(fleet: Fleet) -> None:
    device = fleet.mobile_1
    ahead = device.op(
        "incident",
        "inc-ahead",
        incident_fields("st5", device.device_id),
        hlc=device.hlc_at(MAX_CLOCK_AHEAD_MS + 60_000),
    )
    body = await device.push(ahead)
    result = body["results"][0]
    assert result["status"] == "rejected"
    assert result["retry"] is True
    assert "clock ahead" in result["reason"]
    within = device.op(
        "incident", "inc-ahead", incident_fields("st5", device.device_id), hlc=device.hlc_at(60_000)
    )
    assert await device.statuses(within) == ["applied"]
    retried = dict(ahead, hlc=device.hlc_at(120_000))
    assert await device.statuses(retried) == ["applied"]


async def test_a_device_writes_only_its_own_records_and_its_scope(fleet: Fleet) -> None:
    owner, other = fleet.classroom_1a, fleet.mobile_1
    await owner.push(owner.op("incident", "inc-own", incident_fields("st1", owner.device_id)))
    body = await other.push(other.op("incident", "inc-own", {"note": "not mine"}))
    assert body["results"][0]["status"] == "rejected"
    assert "another device" in body["results"][0]["reason"]
    follow_up = other.op("follow_up", "fu-other", follow_up_fields("inc-own"))
    assert await other.statuses(follow_up) == ["applied"]
    outside = owner.op("incident", "inc-outside", incident_fields("st5", owner.device_id))
    body = await owner.push(outside)
    assert body["results"][0]["status"] == "rejected"
    assert "scope" in body["results"][0]["reason"]
    other_school = fleet.mobile_2.op(
        "incident", "inc-x", incident_fields("st1", fleet.mobile_2.device_id)
    )
    assert await fleet.mobile_2.statuses(other_school) == ["rejected"]
    moved_out = owner.op("incident", "inc-own", {"student_id": "st7"})
    assert await owner.statuses(moved_out) == ["rejected"]


@pytest.mark.parametrize(
    ("kind", "fields", "reason"),
    [
        (
            "incident",
            {"student_id": "st1", "level": 2},
            "needs behavior_code, created_at, device_id, occurred_at",
        ),
        (
            "incident",
            {
                "student_id": "st1",
                "behavior_code": "DIS-CLASS",
                "occurred_at": "2026-09-01T10:00:00.000+00:00",
            },
            "level",
        ),
        ("tab", {"student_id": "st1", "kind": "out"}, "needs device_id, staff_id, started_at"),
        (
            "incident",
            {
                "student_id": "st1",
                "behavior_code": "DIS-CLASS",
                "level": 2,
                "occurred_at": "yesterday",
            },
            "occurred_at must be a date-time",
        ),
        (
            "incident",
            {
                "student_id": "st1",
                "behavior_code": "DIS-CLASS",
                "level": 2,
                "occurred_at": "2026-09-01T10:00:00",
            },
            "occurred_at must be a date-time",
        ),
        ("follow_up", follow_up_fields("missing"), "not a Level 2 record"),
    ],
)
async def test_creating_a_record_without_what_it_needs_is_rejected(
    fleet: Fleet, kind: str, fields: dict[str, object], reason: str
) -> None:
    device = fleet.classroom_1a
    body = await device.push(device.op(kind, f"{kind}-incomplete", fields))
    result = body["results"][0]
    assert result["status"] == "rejected"
    assert reason in result["reason"]


async def test_retraction_leaves_a_content_free_tombstone_that_a_stale_push_cannot_undo(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device = fleet.classroom_1a
    create = device.op(
        "incident", "inc-r", incident_fields("st1", device.device_id, note="RETRACT-ME")
    )
    edit = device.op("incident", "inc-r", {"note": "edited"})
    await device.push(create, edit)
    stale = device.op(
        "incident", "inc-r", incident_fields("st1", device.device_id), hlc=create["hlc"]
    )
    retract = device.op("incident", "inc-r", op="retract")
    assert await device.statuses(retract) == ["applied"]
    state = await _state(fleet)
    assert state.removed["inc-r"] == "incident"
    assert "inc-r" not in state.live
    assert await _detail(fleet, "inc-r") is None
    _assert_stored_tombstone_keeps_no_content(engine, "inc-r")
    export = await fleet.district_admin.http.get(
        "/v1/admin/export", params={"format": "jsonl"}, headers=fleet.district_admin.headers
    )
    assert export.status_code == 200
    assert "inc-r" not in export.text
    assert "RETRACT-ME" not in export.text
    assert await device.statuses(stale) == ["superseded"]
    assert "inc-r" in (await _state(fleet)).removed
    recreate = device.op("incident", "inc-r", incident_fields("st1", device.device_id, note="back"))
    assert await device.statuses(recreate) == ["applied"]
    record = await _detail(fleet, "inc-r")
    assert record is not None
    assert record["fields"]["note"] == "back"
    assert record["superseded"] == []
    assert "inc-r" not in (await _state(fleet)).removed
    assert await device.statuses(device.op("incident", "inc-r", op="retract")) == ["applied"]
    partial = device.op("incident", "inc-r", {"note": "only a field"})
    body = await device.push(partial)
    assert body["results"][0]["status"] == "rejected"
    assert "inc-r" in (await _state(fleet)).removed


async def test_retracting_an_incident_takes_its_follow_ups_and_unlinks_its_tabs(
    fleet: Fleet, engine: sa.Engine
) -> None:
    device, helper = fleet.classroom_1a, fleet.mobile_1
    await device.push(
        device.op("incident", "inc-tree", incident_fields("st1", device.device_id)),
        device.op("follow_up", "fu-tree", follow_up_fields("inc-tree")),
        device.op("tab", "tab-tree", tab_fields("st1", device.device_id, incident_id="inc-tree")),
    )
    await helper.push(
        helper.op("follow_up", "fu-helper", follow_up_fields("inc-tree", "corrective_feedback"))
    )
    assert (await _fields(fleet, "tab-tree"))["incident_id"] == "inc-tree"
    await device.push(device.op("incident", "inc-tree", op="retract"))
    state = await _state(fleet)
    assert state.removed == {
        "inc-tree": "incident",
        "fu-tree": "follow_up",
        "fu-helper": "follow_up",
    }
    assert state.fields("tab-tree")["incident_id"] is None


async def test_a_tab_link_to_a_record_the_server_lacks_is_dropped(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    body = await device.push(
        device.op("tab", "tab-l1", tab_fields("st1", device.device_id, incident_id="level-1-id"))
    )
    result = body["results"][0]
    assert result["status"] == "applied"
    assert "link was dropped" in result["reason"]
    assert (await _fields(fleet, "tab-l1"))["incident_id"] is None


async def test_voids_win_over_a_later_attempt_to_clear_them(fleet: Fleet) -> None:
    device = fleet.classroom_1a
    await device.push(device.op("incident", "inc-void", incident_fields("st1", device.device_id)))
    void = device.op(
        "incident",
        "inc-void",
        {"voided_at": "2026-09-01T10:00:00.000+00:00", "void_reason": "wrong student"},
    )
    unvoid = device.op("incident", "inc-void", {"voided_at": None})
    assert await device.statuses(void, unvoid) == ["applied", "superseded"]
    assert (await _fields(fleet, "inc-void"))["voided_at"] == "2026-09-01T10:00:00.000+00:00"


async def test_the_push_must_come_from_the_tokens_device_and_protocol(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    device = fleet.classroom_1a
    op = device.op("incident", "inc-who", incident_fields("st1", device.device_id))
    spoofed = await http.post(
        "/v1/sync/push",
        json={"device_id": fleet.mobile_1.device_id, "ops": [op]},
        headers=device.headers,
    )
    assert spoofed.status_code == 403
    newer = await http.post(
        "/v1/sync/push",
        json={"device_id": device.device_id, "protocol": 99, "ops": [op]},
        headers=device.headers,
    )
    assert newer.status_code == 400
    assert "protocol 99" in newer.json()["detail"]


async def test_push_bodies_are_never_logged(fleet: Fleet, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    device = fleet.classroom_1a
    await device.push(
        device.op(
            "incident", "inc-log", incident_fields("st1", device.device_id, note="LOG-MARKER-77")
        )
    )
    assert "LOG-MARKER-77" not in caplog.text


async def test_a_retraction_leaves_no_content_in_the_sqlite_files(
    sqlite_url: str, tmp_path: Path
) -> None:
    from serverkit import server_settings

    from district.app import create_app
    from district.db import create_engine

    engine = create_engine(sqlite_url)
    app = create_app(server_settings(sqlite_url), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
        device: DeviceClient = await enroll(http, engine, "mobile", SCHOOL_1)
        marker = "CONTENT-MUST-VANISH-" * 20
        await device.push(
            device.op(
                "incident", "inc-secure", incident_fields("st1", device.device_id, note=marker)
            )
        )
        for number in range(3):
            await device.push(device.op("incident", "inc-secure", {"note": f"{marker}{number}"}))
        await device.push(device.op("incident", "inc-secure", op="retract"))
    engine.dispose()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            assert b"CONTENT-MUST-VANISH" not in path.read_bytes(), path.name


async def test_an_edit_that_overtakes_its_record_waits_for_it_instead_of_being_lost(
    fleet: Fleet,
) -> None:
    device = fleet.classroom_1a
    create = device.op("incident", "inc-late", incident_fields("st1", device.device_id))
    edit = device.op("incident", "inc-late", {"note": "added later"})
    early = await device.push(edit)
    (result,) = early["results"]
    assert result["status"] == "rejected"
    assert result["retry"] is True
    late = await device.push(create, edit)
    assert [r["status"] for r in late["results"]] == ["applied", "applied"]
