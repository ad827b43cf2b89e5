"""The daemon's scheduling: watcher noise from reads never triggers, a commit cuts the
long-poll short and is pushed at once, backoff honours Retry-After, errors reach sync_state,
and one daemon per device."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest
from synckit import Fault, Network

from schema.db import db_path
from syncd.backoff import Backoff
from syncd.daemon import Daemon
from syncd.lock import AlreadyRunningError, DaemonLock
from syncd.watch import watch_commits


async def _until(predicate, within: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return bool(predicate())


async def test_watcher_noise_from_read_only_access_does_not_trigger(network: Network) -> None:
    device = network.device()
    changed, stop = asyncio.Event(), asyncio.Event()
    database = db_path(device.home)
    task = asyncio.create_task(
        watch_commits(
            database, lambda: device.engine.db(device.sync_store.data_version), changed, stop
        )
    )
    await asyncio.sleep(0.3)
    for _ in range(20):
        reader = sqlite3.connect(database)
        reader.execute("SELECT count(*) FROM incidents").fetchone()
        reader.close()
        device.store.todays_incidents()
        os.utime(database)
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    noise = changed.is_set()
    device.log(level=1)
    triggered = await _until(changed.is_set)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert not noise
    assert triggered


async def test_commit_cuts_long_poll_short_and_is_pushed(network: Network) -> None:
    device = network.device()
    daemon = Daemon(device.engine, long_poll=25.0)
    runner = asyncio.create_task(daemon.run())
    await _until(lambda: daemon.stats.rounds >= 1)
    await asyncio.sleep(0.3)
    record = device.log(level=2, note="fresh")
    arrived = await _until(lambda: record in network.district.records)
    online = await _until(lambda: device.sync_store.state()["online"] == 1)
    running_pid = device.sync_store.state()["daemon_pid"]
    daemon.stop.set()
    await asyncio.wait_for(runner, 10)
    assert arrived
    assert online
    assert running_pid == os.getpid()
    state = device.sync_store.state()
    assert state["online"] is None
    assert state["daemon_pid"] is None
    assert state["last_success_at"] is not None


async def test_daemon_records_401_as_not_enrolled(network: Network) -> None:
    device = network.device()
    device.log(level=2)
    network.district.revoke(device.sync_store.device_id)
    daemon = Daemon(device.engine, watch=False, backoff=Backoff(base=30))
    runner = asyncio.create_task(daemon.run())
    reported = await _until(lambda: device.sync_store.state()["last_error"] is not None)
    daemon.stop.set()
    await asyncio.wait_for(runner, 10)
    assert reported
    assert device.sync_store.state()["last_error"] == "device not enrolled or revoked"


async def test_daemon_recovers_after_5xx_and_sets_draining_total(network: Network) -> None:
    device = network.device()
    for _ in range(3):
        device.log(level=2, student="stu-3")
    device.transport.faults.append(Fault("status", status=500, path="push"))
    daemon = Daemon(device.engine, watch=False, backoff=Backoff(base=0.05, cap=0.1))
    runner = asyncio.create_task(daemon.run())
    drained = await _until(lambda: device.pending() == 0)
    daemon.stop.set()
    await asyncio.wait_for(runner, 10)
    assert drained
    assert daemon.stats.failures >= 1
    assert device.sync_store.state()["draining_total"] == 0


def test_backoff_is_full_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(uniform=lambda low, high: high)
    delays = [backoff.next_delay() for _ in range(12)]
    assert delays[0] == 1.0
    assert delays == sorted(delays)
    assert delays[-1] == 300.0
    backoff.reset()
    assert backoff.next_delay(retry_after=42) == 42
    assert Backoff(uniform=lambda low, high: low).next_delay(retry_after=900) == 300.0
    jittered = Backoff(uniform=lambda low, high: (low + high) / 2)
    jittered.failures = 3
    assert jittered.next_delay() == 4.0


def test_one_daemon_per_device(tmp_path: Path) -> None:
    with DaemonLock(tmp_path):
        with pytest.raises(AlreadyRunningError) as caught:
            DaemonLock(tmp_path).acquire()
        assert caught.value.pid == os.getpid()
    DaemonLock(tmp_path).acquire()


async def test_ops_waiting_for_retry_do_not_hold_back_the_pull(network: Network) -> None:
    teacher = network.device("teacher")
    mobile = network.device("mobile", staff_id="staff-2")
    arrived = teacher.log(level=2, note="support request")
    await teacher.engine.push()
    mobile.log(level=2)
    mobile.sync_store.connection.execute("UPDATE outbox SET hlc = '9999999999999-000000-' || hlc")
    daemon = Daemon(mobile.engine, watch=False, backoff=Backoff(base=30))
    delay = await daemon._round()
    assert delay is not None
    assert mobile.pending() > 0
    assert mobile.store.incident(arrived).origin == "remote"
    assert "retry" in (mobile.sync_store.state()["last_error"] or "")


async def test_a_support_request_written_during_a_long_backoff_is_tried_at_once(
    network: Network,
) -> None:
    """A call for help must not wait out minutes of backoff once the network may be back: a
    support request written while the daemon backs off ends the wait. An ordinary record
    written meanwhile does not."""
    from schema.support import send_request

    teacher = network.device("teacher")
    teacher.store.set_config(school_id="school-1")
    teacher.log(level=2)
    for _ in range(3):
        teacher.transport.faults.append(Fault("status", status=503, path="push"))
    daemon = Daemon(teacher.engine, backoff=Backoff(base=300, uniform=lambda low, high: high))
    runner = asyncio.create_task(daemon.run())
    assert await _until(lambda: daemon.stats.failures == 1)
    teacher.log(level=2, student="stu-2")
    await asyncio.sleep(1.0)
    rounds_after_a_record = daemon.stats.rounds
    send_request(teacher.store, note="help")
    retried = await _until(lambda: daemon.stats.rounds > rounds_after_a_record)
    daemon.stop.set()
    await asyncio.wait_for(runner, 10)
    assert rounds_after_a_record == 1
    assert retried


async def test_a_commit_that_becomes_visible_after_its_file_event_is_still_noticed(
    tmp_path: Path,
) -> None:
    """A commit's file events come before the fsync that makes it visible: the watcher's first
    look may see no new commit. It must look again rather than wait for the next event."""
    database = tmp_path / "device.db"
    await asyncio.to_thread(database.write_bytes, b"")
    versions = iter([1, 1])
    calls = 0

    async def data_version() -> int:
        nonlocal calls
        calls += 1
        return next(versions, 2)

    changed, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(watch_commits(database, data_version, changed, stop))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(Path(f"{database}-wal").write_bytes, b"frames")
    noticed = await _until(changed.is_set, within=5.0)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert noticed
    assert calls >= 3
