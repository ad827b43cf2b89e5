"""Integration: the real `classlog server` (uvicorn, SQLite, 127.0.0.1), the real `classlog sync`
daemon and the fault proxy between them; the test writes as the TUI would.

Every test ends by checking invariant 2 (each record this device may sync is on the server
exactly as on the device, and nothing is pending)."""

from __future__ import annotations

import functools
import signal
import time
from pathlib import Path

import pytest
from realworld import (
    Templates,
    World,
    diff,
    wait_until,
)

from schema.models import TabKind
from schema.store import IncidentChanges

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path, templates: Templates):  # type: ignore[no-untyped-def]
    with World(tmp_path, templates) as running:
        yield running


def _shrunk_below(device, count: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(device.pending() < count)


def _log_many(device, students: list[str], count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [device.log_incident(students[i % len(students)], note=f"n{i}") for i in range(count)]


def _correct_locations(world: World, record_ids: list[str]) -> None:
    """An administrator corrects each record's location through the API: a later resend of
    the record's create would lose to the correction, and the server would audit its value
    again if it applied the resend instead of answering ``duplicate``."""
    for record_id in record_ids:
        world.server.correct(record_id, {"location": "Office"}, "seen from the office")


def _assert_corrected_once(world: World, record_ids: list[str]) -> None:
    """Each corrected record shows the correction, and the value it replaced is audited exactly
    once: every op the device sent was counted once, however often it was sent."""
    for record_id in record_ids:
        detail = world.server.detail(record_id)
        assert detail is not None, record_id
        assert detail["fields"]["location"] == "Office"
        replaced = [(value["field"], value["value"]) for value in detail["superseded"]]
        assert replaced == [("location", None)], (record_id, replaced)


@pytest.mark.parametrize("step", ["before_send", "after_reply", "mid_ack"])
def test_kill_9_of_daemon_at_each_push_step_then_exactly_once(
    world: World, templates: Templates, step: str
) -> None:
    device = world.device("mobile")
    logged = _log_many(device, templates.student_ids, 20)
    pending = device.pending()
    daemon = device.start_daemon(CLASSLOG_SYNC_CRASH_AT=step)
    daemon.wait(60)
    assert daemon.returncode == -signal.SIGKILL
    assert device.pending() == pending
    on_server = world.server.live_records()
    if step == "before_send":
        assert not on_server
        marked = device.query("SELECT count(*) FROM remote_copies")[0][0]
        assert marked > 0
    else:
        assert len(on_server) == pending
        _correct_locations(world, logged)
    device.start_daemon()
    assert wait_until(lambda: world.converged(device), 60), diff(device, world.server)
    assert len(world.server.live_records()) == pending
    if step != "before_send":
        _assert_corrected_once(world, logged)
        assert {device.store.incident(record).location for record in logged} == {"Office"}
    assert device.stop_daemon() == 0


def test_lost_reply_after_server_commit_and_reset_through_proxy(
    world: World, templates: Templates
) -> None:
    device = world.device("mobile")
    world.proxy.push_fault("drop_reply", 2)
    world.proxy.push_fault("reset", 2)
    _log_many(device, templates.student_ids, 5)
    device.start_daemon()
    assert wait_until(lambda: world.converged(device), 60), diff(device, world.server)
    assert world.proxy.proxy.stats.faults_applied.get("drop_reply") == 2
    assert device.stop_daemon() == 0
    later = _log_many(device, templates.student_ids, 3)
    world.proxy.push_fault("drop_reply")
    lost = device.sync_once()
    assert lost.returncode == 1, lost.stdout + lost.stderr
    assert world.proxy.proxy.stats.faults_applied.get("drop_reply") == 3
    assert set(later) <= set(world.server.live_records())
    _correct_locations(world, later)
    resent = device.sync_once()
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert world.converged(device), diff(device, world.server)
    _assert_corrected_once(world, later)


@pytest.mark.parametrize("mode", ["delay", "slice", "throttle"])
def test_slow_sliced_and_throttled_connections_still_converge(
    world: World, templates: Templates, mode: str
) -> None:
    device = world.device("mobile")
    world.proxy.set_mode(mode, delay=0.3, slice_bytes=11, bytes_per_second=40_000)
    _log_many(device, templates.student_ids, 10)
    device.start_daemon()
    assert wait_until(lambda: world.converged(device), 90), diff(device, world.server)
    device.stop_daemon()


def test_server_killed_mid_transaction_converges(world: World, templates: Templates) -> None:
    """kill -9 of the server while batches stream in: each kill lands while the daemon is
    sending (the outbox has shrunk but is not empty), so a push is being applied; SQLite rolls
    the cut transaction back and the daemon's retry (deduplicated by op id) fills the gap.
    Afterwards every op the device queued, sent once more, is answered ``duplicate``: the server
    counted each one exactly once, including those whose reply a kill cut off."""
    from bench_sync import seed_backlog

    device = world.device("mobile")
    device.close()
    queued = seed_backlog(device.home, templates.student_ids, 6_000)
    sent = device.queued_ops()
    assert len(sent) == queued
    device.start_daemon()
    kills_mid_drain = 0
    for _ in range(3):
        before = device.pending()
        assert wait_until(functools.partial(_shrunk_below, device, before), 60)
        if device.pending() > 0:
            kills_mid_drain += 1
        world.server.kill()
        time.sleep(0.3)
        world.server.start()
    assert kills_mid_drain >= 2
    assert wait_until(lambda: device.pending() == 0, 120)
    assert len(world.server.live_records()) == queued
    assert world.converged(device), diff(device, world.server)[:3]
    assert device.stop_daemon() == 0
    again = device.send_again(world.server.url, sent)
    assert again == ["duplicate"] * queued, {status: again.count(status) for status in set(again)}


def test_revoked_device_shows_not_enrolled_or_revoked(world: World, templates: Templates) -> None:
    device = world.device("mobile")
    device_id = device.store.device_id
    from realworld import run

    run("district", "revoke", device_id, "--db", world.server.db_url)
    device.log_incident(templates.student_ids[0])
    device.start_daemon()
    assert wait_until(lambda: device.state()["last_error"] is not None, 30)
    assert device.state()["last_error"] == "device not enrolled or revoked"
    assert device.pending() > 0
    device.stop_daemon()
    once = device.sync_once()
    assert once.returncode == 1
    assert "device not enrolled or revoked" in once.stderr


def test_sigterm_stops_cleanly_and_one_daemon_per_device(world: World) -> None:
    device = world.device("mobile")
    first = device.start_daemon()
    assert wait_until(lambda: device.state()["daemon_pid"] == first.pid, 30)
    second = device.sync_once()
    assert second.returncode == 2
    assert "already running" in second.stderr
    first.send_signal(signal.SIGTERM)
    assert first.wait(15) == 0
    device.process = None
    assert device.state()["daemon_pid"] is None


def test_sync_once_exit_status_says_whether_everything_was_acknowledged(
    world: World, templates: Templates
) -> None:
    device = world.device("mobile")
    device.log_incident(templates.student_ids[0])
    world.server.stop()
    offline = device.sync_once()
    assert offline.returncode == 1
    assert "pending" in offline.stdout
    world.server.start()
    online = device.sync_once()
    assert online.returncode == 0, online.stdout + online.stderr
    assert world.converged(device)


def test_online_record_reaches_server_within_seconds(world: World, templates: Templates) -> None:
    device = world.device("mobile")
    device.start_daemon()
    assert wait_until(lambda: device.state()["online"] == 1, 30)
    record = device.log_incident(templates.student_ids[1], note="fresh")
    assert wait_until(lambda: world.server.detail(record) is not None, 5)
    device.stop_daemon()


def test_no_level_1_byte_leaves_the_device_through_the_proxy(
    world: World, templates: Templates
) -> None:
    """Invariant 1 over real processes: every byte sent upstream is captured by the proxy,
    and the server's database files and log are searched as well."""
    device = world.device("mobile")
    store = device.store
    students = templates.student_ids
    markers: list[str] = []

    def marker(name: str) -> str:
        markers.append(f"PRIV-L1-{name}-c0ffee")
        return markers[-1]

    device.start_daemon()
    world.proxy.push_fault("drop_reply")
    world.proxy.push_fault("reset")
    created = device.log_incident(students[0], level=1, note=marker("create"))
    store.edit_incident(created, IncidentChanges(note=marker("edit"), location="Gym"))
    for follow_up in store.follow_ups_for(created):
        store.complete_follow_up(follow_up.id, note=marker("follow-up"))
    voided = device.log_incident(students[1], level=1, note=marker("voided-note"))
    store.void_incident(voided, marker("void-reason"))
    tab = store.start_tab(students[2], TabKind.OUT, incident_id=created)
    store.stop_tab(tab.id, returned_ready=True)
    upgraded = device.log_incident(students[3], level=1, note=marker("before-upgrade"))
    store.edit_incident(upgraded, IncidentChanges(note="level two text"))
    store.edit_incident(upgraded, IncidentChanges(level=2))
    downgraded = device.log_incident(students[4], level=2, note="was level two")
    assert wait_until(lambda: world.server.detail(downgraded) is not None, 30)
    store.edit_incident(downgraded, IncidentChanges(level=1))
    store.edit_incident(downgraded, IncidentChanges(note=marker("after-downgrade")))
    device.kill_daemon()
    racing = device.log_incident(students[5], level=2, note="racing")
    device.start_daemon(CLASSLOG_SYNC_CRASH_AT="after_reply")
    device.process and device.process.wait(30)
    store.edit_incident(racing, IncidentChanges(level=1, note=marker("race")))
    device.start_daemon()
    assert wait_until(lambda: world.converged(device), 60), diff(device, world.server)
    device.stop_daemon()
    held = world.server.tombstones()
    world.server.stop()
    sent = world.capture.read_bytes()
    stored = world.server.file_bytes()
    assert sent
    for text in markers:
        assert text.encode() not in sent, text
        assert text.encode() not in stored, text
    for private in (created, voided):
        assert private.encode() not in sent
        assert private.encode() not in stored
    assert {downgraded, racing} <= held


@pytest.mark.slow
def test_50000_op_backlog_after_two_weeks_offline_resumed_after_kill_mid_pull(
    world: World, templates: Templates
) -> None:
    from bench_sync import seed_backlog

    offline = world.device("offline")
    offline.close()
    queued = seed_backlog(offline.home, templates.student_ids, 50_000)
    assert queued >= 49_998
    offline.start_daemon()
    assert wait_until(lambda: offline.pending() == 0, 180), offline.pending()
    offline.stop_daemon()
    held = world.server.live_records()
    assert len(held) == queued
    fresh = world.device("fresh")

    def remote_count() -> int:
        return int(fresh.query("SELECT count(*) FROM incidents WHERE origin = 'remote'")[0][0])

    fresh.start_daemon()
    assert wait_until(lambda: remote_count() > 3000, 120)
    fresh.kill_daemon()
    interrupted_at = fresh.state()["pull_cursor"]
    assert 0 < remote_count() < queued // 3
    assert interrupted_at > 0
    fresh.start_daemon()
    expected_incidents = sum(1 for fields in held.values() if fields["kind"] == "incident")
    assert wait_until(lambda: remote_count() == expected_incidents, 180), remote_count()
    follow_ups = int(fresh.query("SELECT count(*) FROM follow_ups WHERE origin = 'remote'")[0][0])
    assert follow_ups == queued - expected_incidents
    assert fresh.state()["pull_cursor"] >= interrupted_at
    assert world.converged(offline)
    fresh.stop_daemon()
