"""Pull: paging and cursor, per-field merge with administrator corrections, removals,
roster/grid/config changes, and the TUI writing while a large pull is applied."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from synckit import STUDENT_IDS, Network

from schema.models import IncidentDraft
from schema.store import DeviceStore, IncidentChanges
from schema.sync_store import UnappliableChangeError
from schema.wire import Change
from syncd.engine import PullStoppedError


async def test_other_devices_level_2_records_arrive_as_remote(network: Network) -> None:
    teacher = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    incident_id = teacher.log(level=2, note="seen by mobile")
    await teacher.engine.push()
    await mobile.engine.pull()
    copy = mobile.store.incident(incident_id)
    assert copy.origin == "remote"
    assert copy.note == "seen by mobile"
    assert [f.incident_id for f in mobile.store.follow_ups_for(incident_id)]


async def test_pull_pages_and_keeps_cursor(network: Network) -> None:
    teacher = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    for _ in range(5):
        teacher.log(level=2, student="stu-3")
    await teacher.engine.push()
    mobile.engine.pull_limit = 3
    report = await mobile.engine.pull()
    assert report.pages >= 4
    assert mobile.sync_store.pull_cursor() == network.district.cursor
    assert len(mobile.store.incidents_between(*_all_time())) == 5


async def test_newer_admin_correction_wins_over_older_local_edit(network: Network) -> None:
    teacher = network.device("teacher")
    incident_id = teacher.log(level=2, note="original")
    await teacher.engine.push()
    network.server_clock.advance(5)
    network.district.correct(incident_id, {"location": "Hallway"})
    await teacher.engine.pull()
    assert teacher.store.incident(incident_id).location == "Hallway"


async def test_local_edit_newer_than_admin_correction_wins(network: Network) -> None:
    teacher = network.device("teacher")
    incident_id = teacher.log(level=2, note="original")
    await teacher.engine.push()
    network.district.correct(incident_id, {"note": "admin says"})
    network.server_clock.advance(5)
    teacher.store.edit_incident(incident_id, IncidentChanges(note="teacher later"))
    await teacher.engine.pull()
    assert teacher.store.incident(incident_id).note == "teacher later"
    merges = [a for a in teacher.store.audit_for(incident_id) if a["action"] == "merge"]
    assert merges[-1]["changes"]["lost_incoming"]["note"] == "admin says"
    await teacher.engine.push()
    assert network.district.records[incident_id].fields["note"] == "teacher later"


async def test_admin_correction_newer_than_pending_local_edit_wins_and_keeps_loser(
    network: Network,
) -> None:
    teacher = network.device("teacher")
    incident_id = teacher.log(level=2, note="original")
    await teacher.engine.push()
    teacher.store.edit_incident(incident_id, IncidentChanges(note="teacher offline edit"))
    network.server_clock.advance(5)
    network.district.correct(incident_id, {"note": "admin correction"})
    await teacher.engine.pull()
    assert teacher.store.incident(incident_id).note == "admin correction"
    merges = [a for a in teacher.store.audit_for(incident_id) if a["action"] == "merge"]
    assert merges[-1]["changes"]["lost_local"]["note"] == "teacher offline edit"
    await teacher.engine.push()
    assert network.district.records[incident_id].fields["note"] == "admin correction"


async def test_teacher_mobile_and_admin_on_one_student_converge(network: Network) -> None:
    teacher = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    own = teacher.log(level=2, note="teacher's", student="stu-2")
    theirs = mobile.log(level=2, note="mobile's", student="stu-2")
    await teacher.engine.push()
    await mobile.engine.push()
    network.server_clock.advance(1)
    network.district.correct(own, {"location": "Gym"})
    teacher.store.edit_incident(own, IncidentChanges(motivation="Unknown"))
    network.server_clock.advance(1)
    for device in (teacher, mobile, teacher, mobile):
        await device.engine.push()
        await device.engine.pull()
    for device in (teacher, mobile):
        for record_id in (own, theirs):
            local = device.store.incident(record_id)
            held = network.district.records[record_id].fields
            assert (local.note, local.location, local.motivation) == (
                held["note"],
                held.get("location"),
                held.get("motivation"),
            )
    assert teacher.store.incident(own).location == "Gym"
    assert mobile.store.incident(own).motivation == "Unknown"


async def test_retraction_removes_copies_elsewhere_but_not_the_owners_record(
    network: Network,
) -> None:
    teacher = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    incident_id = teacher.log(level=2, note="will go private")
    await teacher.engine.push()
    await mobile.engine.pull()
    assert mobile.store.incident(incident_id).origin == "remote"
    teacher.store.edit_incident(incident_id, IncidentChanges(level=1))
    await teacher.engine.push()
    await teacher.engine.pull()
    await mobile.engine.pull()
    assert teacher.store.incident(incident_id).level == 1
    assert not mobile.store.incidents_between(*_all_time())
    assert not mobile.store.follow_ups_for(incident_id)


async def test_stale_remote_copy_cannot_bring_back_level_2_over_local_level_1(
    network: Network,
) -> None:
    teacher = network.device("teacher")
    incident_id = teacher.log(level=2)
    await teacher.engine.push()
    teacher.store.edit_incident(incident_id, IncidentChanges(level=1, note="private now"))
    await teacher.engine.pull()
    assert teacher.store.incident(incident_id).level == 1
    assert teacher.store.incident(incident_id).note == "private now"


async def test_roster_grid_and_config_changes_are_applied(network: Network) -> None:
    device = network.device("teacher")
    district = network.district
    district.put_roster(
        "student",
        "stu-new",
        {"given_name": "Nia", "family_name": "New", "grade": "07", "iep": True, "race": "x"},
    )
    district.put_roster(
        "enrollment",
        "sec-1|stu-new",
        {"section_id": "sec-1", "user_id": "stu-new", "role": "student"},
    )
    district.put_roster("student", "stu-3", None)
    district.put_roster("config", "district", {"school_year_start": "2026-08-15"})
    entry = device.store.grid().behaviors("2026-2027", "06")[0].model_dump(mode="json")
    entry["levels"] = [1]
    district.put_roster("grid", "grid", {"version": 2, "grid": {"version": 1, "entries": [entry]}})
    await device.engine.pull()
    assert device.store.student("stu-new").iep
    columns = [r[1] for r in device.sync_store.connection.execute("PRAGMA table_info(students)")]
    assert "race" not in columns
    assert [s.sourced_id for s in device.store.students_in_section("sec-1")] == [
        "stu-1",
        "stu-2",
        "stu-new",
    ] or {s.sourced_id for s in device.store.students_in_section("sec-1")} == {
        "stu-1",
        "stu-2",
        "stu-new",
    }
    assert "stu-3" not in device.store.students()
    assert device.store.school_year_start().isoformat() == "2026-08-15"
    assert len(device.store.grid()) == 1


def test_a_change_the_device_cannot_apply_stops_the_page_and_keeps_the_cursor(
    network: Network,
) -> None:
    """A pulled change outside the record contract (a create without what a device needs, a
    Level 1 record) is never skipped silently: the page is not applied, the cursor stays, and
    the error names the change."""
    device = network.device("teacher")
    good = Change(
        cursor=1,
        kind="student",
        id="stu-new",
        op="upsert",
        fields={"given_name": "New", "family_name": "Student", "grade": "07", "iep": False},
    )
    bad = Change(cursor=2, kind="incident", id="x", op="upsert", fields={"note": "partial"})
    level_1 = Change(
        cursor=3,
        kind="incident",
        id="y",
        op="upsert",
        fields={"level": 1, "note": "never stored"},
    )
    for page in ([good, bad], [good, level_1]):
        with pytest.raises(UnappliableChangeError) as stopped:
            device.sync_store.apply_pull_page(page, 3)
        assert page[1].id in str(stopped.value)
        assert device.sync_store.pull_cursor() == 0
        assert "stu-new" not in device.store.students()
    held = device.sync_store.connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert held == 0


async def test_the_daemon_reports_a_change_it_cannot_apply_and_does_not_move_on(
    network: Network,
) -> None:
    from syncd_fakeserver import Held

    device = network.device("teacher")
    owner = "another-device"
    stamp = "1795000000000-000000-" + owner
    bad = Held("incident", "bad", owner, {"note": "only a note"}, {"note": stamp})
    network.district.records["bad"] = bad
    bad.cursor = network.district._bump()
    with pytest.raises(PullStoppedError, match="cannot apply"):
        await device.engine.pull()
    assert device.sync_store.pull_cursor() == 0
    del network.district.records["bad"]
    await device.engine.pull()
    assert device.sync_store.pull_cursor() == network.district.cursor


async def test_tui_writes_while_daemon_applies_a_10000_row_pull(network: Network) -> None:
    """A teacher logging every 10 ms (far faster than anyone types) while 10 pages of 1,000
    remote records are applied: every write succeeds and nothing is lost on either side."""
    teacher = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    for index in range(10_000):
        record_id = f"remote-{index:05d}"
        network.district.records[record_id] = _held(record_id, teacher.sync_store.device_id)
        network.district.records[record_id].cursor = network.district._bump()
    written: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def tui() -> None:
        store = DeviceStore.open(mobile.home)
        try:
            while not stop.is_set():
                draft = IncidentDraft(student_id="stu-1", behavior_code="DIS-CLASS", level=1)
                written.append(store.log_incident(draft).id)
                time.sleep(0.01)
        except BaseException as error:
            errors.append(error)
        finally:
            store.close()

    thread = threading.Thread(target=tui)
    thread.start()
    try:
        report = await mobile.engine.pull()
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)
    assert not errors
    assert report.applied == 10_000
    assert written
    count = mobile.sync_store.connection.execute(
        "SELECT count(*) FROM incidents WHERE origin = 'remote'"
    ).fetchone()[0]
    assert count == 10_000
    local = mobile.sync_store.connection.execute(
        "SELECT count(*) FROM incidents WHERE origin = 'local'"
    ).fetchone()[0]
    assert local == len(written)


def _held(record_id: str, owner: str):  # type: ignore[no-untyped-def]
    from syncd_fakeserver import Held

    fields = {
        "student_id": STUDENT_IDS[0],
        "staff_id": "staff-1",
        "device_id": owner,
        "behavior_code": "DIS-CLASS",
        "level": 2,
        "actions": ["redirect"],
        "occurred_at": "2026-11-20T10:00:00.000+00:00",
        "tz": "UTC",
        "note": "",
        "created_at": "2026-11-20T10:00:00.000+00:00",
        "updated_at": "2026-11-20T10:00:00.000+00:00",
    }
    stamp = "1795000000000-000000-" + owner
    return Held("incident", record_id, owner, fields, dict.fromkeys(fields, stamp))


def _all_time():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def test_audit_changes_are_json(network: Network) -> None:
    device = network.device("teacher")
    rows = device.sync_store.connection.execute("SELECT changes FROM audit").fetchall()
    assert all(isinstance(json.loads(row[0]), dict) for row in rows)
