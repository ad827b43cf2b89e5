"""Pull: changes in the device's scope after a server-assigned cursor, paged, long-polled, with
removals for records that leave a scope, roster and grid changes, never demographics."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from serverkit import (
    SCHOOL_1,
    SECRET_DEMOGRAPHIC,
    SECTION_1A,
    SECTION_1B,
    Fleet,
    Wall,
    enroll,
    follow_up_fields,
    held,
    incident_fields,
    server_settings,
    tab_fields,
    view,
    world_roster,
)

from district.app import create_app
from district.roster_import import import_roster
from schema.wire import MAX_PULL_LIMIT


async def test_a_first_pull_brings_the_roster_grid_and_config_of_the_scope_only(
    fleet: Fleet,
) -> None:
    changes, cursor = await fleet.classroom_1a.pull_all()
    assert cursor > 0
    assert held(changes, "student") == {"st1", "st2", "st3", "st4"}
    assert held(changes, "section") == {SECTION_1A}
    assert held(changes, "staff") == {"t1", "t2", "m1", "a1"}
    assert held(changes, "enrollment") == {
        f"{SECTION_1A}|{user}" for user in ("t1", "st1", "st2", "st3", "st4")
    }
    grid = view(changes)[("grid", "grid")]
    assert grid is not None
    assert grid["grid"]["entries"]
    config = view(changes)[("config", "district")]
    assert config == {"school_year_start": "2026-08-24"}
    student = view(changes)[("student", "st2")]
    assert student == {
        "given_name": "Givenst2",
        "family_name": "Familyst2",
        "grade": "07",
        "iep": True,
        "school_id": SCHOOL_1,
    }
    assert SECRET_DEMOGRAPHIC not in json.dumps(changes)
    mobile, _ = await fleet.mobile_1.pull_all()
    assert held(mobile, "student") == {f"st{n}" for n in range(1, 7)}
    assert held(mobile, "section") == {SECTION_1A, SECTION_1B}
    district, _ = await fleet.district_admin.pull_all()
    assert held(district, "student") == {f"st{n}" for n in range(1, 9)}
    other_school, _ = await fleet.classroom_2a.pull_all()
    assert held(other_school, "student") == {"st7", "st8"}
    assert held(other_school, "staff") == {"t3"}


async def test_other_devices_level_2_records_reach_every_device_that_sees_the_student(
    fleet: Fleet,
) -> None:
    _, start_1a = await fleet.classroom_1a.pull_all()
    _, start_1b = await fleet.classroom_1b.pull_all()
    _, start_2 = await fleet.mobile_2.pull_all()
    mobile = fleet.mobile_1
    await mobile.push(
        mobile.op("incident", "inc-m", incident_fields("st1", mobile.device_id, staff_id="m1")),
        mobile.op("tab", "tab-m", tab_fields("st1", mobile.device_id)),
        mobile.op("incident", "inc-m5", incident_fields("st5", mobile.device_id)),
    )
    await fleet.classroom_1a.push(
        fleet.classroom_1a.op("follow_up", "fu-1a", follow_up_fields("inc-m"))
    )
    seen_1a, _ = await fleet.classroom_1a.pull_all(start_1a)
    assert held(seen_1a, "incident") == {"inc-m"}
    assert held(seen_1a, "tab") == {"tab-m"}
    assert held(seen_1a, "follow_up") == {"fu-1a"}
    incident = view(seen_1a)[("incident", "inc-m")]
    assert incident is not None
    assert incident["staff_id"] == "m1"
    assert next(c for c in seen_1a if c["id"] == "inc-m")["field_hlc"]["note"]
    seen_1b, _ = await fleet.classroom_1b.pull_all(start_1b)
    assert held(seen_1b, "incident") == {"inc-m5"}
    seen_2, _ = await fleet.mobile_2.pull_all(start_2)
    assert seen_2 == []


async def test_paging_walks_every_change_once_in_cursor_order(fleet: Fleet) -> None:
    device = fleet.mobile_1
    ops = [
        device.op("incident", f"inc-page-{n}", incident_fields(f"st{1 + n % 6}", device.device_id))
        for n in range(25)
    ]
    await device.push(*ops)
    everything, final = await device.pull_all(0, limit=1000)
    paged: list[dict[str, object]] = []
    cursor = 0
    pages = 0
    while True:
        page = await device.pull(cursor, limit=7)
        assert len(page["changes"]) <= 7
        paged.extend(page["changes"])
        pages += 1
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert pages > 3
    assert cursor == final
    assert paged == everything
    cursors = [change["cursor"] for change in paged]
    assert cursors == sorted(cursors)
    assert held(paged, "incident") == {f"inc-page-{n}" for n in range(25)}
    empty = await device.pull(final)
    assert empty == {
        "changes": [],
        "cursor": final,
        "has_more": False,
        "server_time": empty["server_time"],
    }


async def test_a_retracted_record_arrives_as_a_removal(fleet: Fleet) -> None:
    owner, other = fleet.classroom_1a, fleet.mobile_1
    await owner.push(owner.op("incident", "inc-gone", incident_fields("st1", owner.device_id)))
    before, cursor = await other.pull_all()
    assert "inc-gone" in held(before, "incident")
    await owner.push(owner.op("incident", "inc-gone", op="retract"))
    after, _ = await other.pull_all(cursor)
    assert after == [
        {
            "cursor": after[0]["cursor"],
            "kind": "incident",
            "id": "inc-gone",
            "op": "remove",
            "fields": {},
            "field_hlc": {},
        }
    ]
    outside, _ = await fleet.mobile_2.pull_all()
    assert ("incident", "inc-gone") not in view(outside)


async def test_a_student_moving_between_sections_leaves_and_enters_scopes(
    fleet: Fleet, engine: sa.Engine, tmp_path: Path
) -> None:
    teacher_a, teacher_b = fleet.classroom_1a, fleet.classroom_1b
    await fleet.mobile_1.push(
        fleet.mobile_1.op("incident", "inc-st4", incident_fields("st4", fleet.mobile_1.device_id))
    )
    seen_a, cursor_a = await teacher_a.pull_all()
    seen_b, cursor_b = await teacher_b.pull_all()
    assert "inc-st4" in held(seen_a, "incident")
    assert "inc-st4" not in held(seen_b, "incident")
    roster = world_roster()
    roster.drop_enrollment(SECTION_1A, "st4")
    roster.enroll(SECTION_1B, "st4", SCHOOL_1)
    import_roster(engine, roster.write(tmp_path / "moved"))
    left, _ = await teacher_a.pull_all(cursor_a)
    state_a = view(seen_a + left)
    assert state_a[("student", "st4")] is None
    assert state_a[("incident", "inc-st4")] is None
    assert state_a[("enrollment", f"{SECTION_1A}|st4")] is None
    entered, _ = await teacher_b.pull_all(cursor_b)
    state_b = view(seen_b + entered)
    assert state_b[("student", "st4")] is not None
    assert state_b[("incident", "inc-st4")] is not None
    assert state_b[("enrollment", f"{SECTION_1B}|st4")] is not None
    mobile_before, mobile_cursor = await fleet.mobile_1.pull_all()
    del mobile_before
    roster.rows["users.csv"] = [
        row for row in roster.rows["users.csv"] if row["sourcedId"] != "st4"
    ]
    roster.rows["demographics.csv"] = [
        row for row in roster.rows["demographics.csv"] if row["sourcedId"] != "st4"
    ]
    roster.drop_enrollment(SECTION_1B, "st4")
    import_roster(engine, roster.write(tmp_path / "left-school"))
    gone, _ = await fleet.mobile_1.pull_all(mobile_cursor)
    state_m = view(gone)
    assert state_m[("student", "st4")] is None
    assert state_m[("incident", "inc-st4")] is None


async def test_a_record_moved_to_another_student_leaves_the_old_students_devices(
    fleet: Fleet,
) -> None:
    mobile = fleet.mobile_1
    await mobile.push(mobile.op("incident", "inc-typo", incident_fields("st1", mobile.device_id)))
    seen, cursor = await fleet.classroom_1a.pull_all()
    assert "inc-typo" in held(seen, "incident")
    _, cursor_b = await fleet.classroom_1b.pull_all()
    assert await mobile.statuses(mobile.op("incident", "inc-typo", {"student_id": "st5"})) == [
        "applied"
    ]
    after, _ = await fleet.classroom_1a.pull_all(cursor)
    assert view(seen + after)[("incident", "inc-typo")] is None
    arrived, _ = await fleet.classroom_1b.pull_all(cursor_b)
    assert view(arrived)[("incident", "inc-typo")] is not None


async def test_a_long_poll_returns_as_soon_as_a_change_in_scope_commits(fleet: Fleet) -> None:
    listener, writer = fleet.mobile_1, fleet.classroom_1a
    _, cursor = await listener.pull_all()
    started = time.monotonic()

    async def write_soon() -> None:
        await asyncio.sleep(0.3)
        await fleet.classroom_2a.push(
            fleet.classroom_2a.op(
                "incident", "inc-elsewhere", incident_fields("st7", fleet.classroom_2a.device_id)
            )
        )
        await asyncio.sleep(0.3)
        await writer.push(
            writer.op("incident", "inc-wake", incident_fields("st2", writer.device_id))
        )

    task = asyncio.create_task(write_soon())
    page = await listener.pull(cursor, wait=20)
    elapsed = time.monotonic() - started
    await task
    assert held(page["changes"], "incident") == {"inc-wake"}
    assert 0.5 <= elapsed < 5


async def test_a_long_poll_with_nothing_new_waits_then_answers_empty(fleet: Fleet) -> None:
    _, cursor = await fleet.mobile_2.pull_all()
    started = time.monotonic()
    page = await fleet.mobile_2.pull(cursor, wait=0.5)
    assert page["changes"] == []
    assert page["cursor"] == cursor
    assert time.monotonic() - started >= 0.45


async def test_pull_parameters_are_validated(fleet: Fleet, http: httpx.AsyncClient) -> None:
    headers = fleet.mobile_1.headers
    for params in (
        {"limit": MAX_PULL_LIMIT + 1},
        {"limit": 0},
        {"cursor": -1},
        {"wait": 61},
        {"cursor": "x"},
    ):
        response = await http.get("/v1/sync/pull", params=params, headers=headers)
        assert response.status_code == 422, params
        assert isinstance(response.json()["detail"], str)
    beyond = await fleet.mobile_1.pull(10**12)
    assert beyond["changes"] == []
    assert beyond["cursor"] < 10**12


async def test_a_change_waking_many_long_polls_opens_no_connection_beyond_the_pool(
    database_url: str, wall: Wall
) -> None:
    """A call for support concerns every mobile device of the school, so its commit wakes every
    long-poll at once. Each answers from a connection the server keeps (its pool holds one per
    worker thread); with fewer, the burst opened and closed a connection per request beyond the
    pool, and a responder's answer waited seconds behind the others' (``bench_support.py``)."""
    settings = server_settings(database_url)
    app = create_app(settings, wall=wall)
    engine = app.state.district.engine
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
        mobiles = [await enroll(http, engine, "mobile", SCHOOL_1) for _ in range(60)]
        writer = await enroll(http, engine, "classroom", SCHOOL_1, (SECTION_1A,), "t1")
        cursors = [(await device.pull_all())[1] for device in mobiles]
        opened: list[object] = []
        sa.event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
        polls = [
            asyncio.create_task(device.pull(cursor, wait=20))
            for device, cursor in zip(mobiles, cursors, strict=True)
        ]
        await asyncio.sleep(0.5)
        assert not any(poll.done() for poll in polls)
        await writer.push(
            writer.op("incident", "inc-burst", incident_fields("st2", writer.device_id))
        )
        pages = await asyncio.wait_for(asyncio.gather(*polls), 30)
    assert all(held(page["changes"], "incident") == {"inc-burst"} for page in pages)
    assert len(opened) <= settings.pool_size
    engine.dispose()
