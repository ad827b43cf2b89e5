"""Local and protocol faults: a full disk under the daemon's writes, and a server newer than
this device."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from synckit import Fault, Network

from schema.store import DeviceStore
from syncd.backoff import Backoff
from syncd.client import ProtocolMismatchError
from syncd.daemon import Daemon


@contextlib.contextmanager
def tiny_disk(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A real, small filesystem (tmpfs) so writes fail with ENOSPC the way a full laptop disk
    does; SQLite reports it as SQLITE_FULL. Needs root (CI runs as root): without it the test
    is skipped, except under CI, where it fails as the PostgreSQL and tmux guards do."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        problem = mounted.stderr.decode(errors="replace").strip()
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI must run the full-disk tests, but mounting a tmpfs failed: {problem}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {problem}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _write_block(descriptor: int) -> bool:
    """Write one block; False once the disk is full."""
    try:
        os.write(descriptor, b"\1" * 65536)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        return False
    return True


def fill(disk: Path, leave_bytes: int) -> Path:
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        while _write_block(descriptor):
            pass
    finally:
        os.close(descriptor)
    os.truncate(filler, max(0, filler.stat().st_size - leave_bytes))
    return filler


async def test_full_disk_fails_the_page_whole_and_resumes_when_space_returns(
    network: Network, tmp_path: Path
) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        teacher = network.device("teacher")
        mobile = network.device("mobile", staff_id="staff-2", home=disk / "home")
        for index in range(60):
            teacher.log(level=2, note="x" * 2000, student=("stu-1", "stu-2")[index % 2])
        await teacher.engine.push()
        mobile.log(level=2, note="mine")
        mobile.engine.pull_limit = 1000
        filler = fill(disk, leave_bytes=48_000)
        before = mobile.sync_store.pull_cursor()
        with pytest.raises(sqlite3.OperationalError, match="full"):
            await mobile.engine.pull()
        assert mobile.sync_store.pull_cursor() == before
        assert mobile.sync_store.connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert mobile.store.todays_incidents()
        daemon = Daemon(mobile.engine, watch=False, backoff=Backoff(base=30))
        delay = await daemon._round()
        assert delay is not None
        filler.unlink()
        await mobile.engine.push()
        await mobile.engine.pull()
        remote = mobile.sync_store.connection.execute(
            "SELECT count(*) FROM incidents WHERE origin = 'remote'"
        ).fetchone()[0]
        assert remote == 60
        assert mobile.pending() == 0
        await network.close()
        network.devices.clear()


async def test_server_speaking_a_newer_protocol_is_a_clear_error(network: Network) -> None:
    device = network.device()
    device.log(level=2)
    device.transport.faults.append(Fault("status", status=400, path="push"))
    device.transport.faults[-1].status = 400

    async def newer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"detail": "protocol 1 is not supported: this server speaks 2"}
        )

    original = device.transport.inner
    device.transport.inner = httpx.MockTransport(newer)  # type: ignore[assignment]
    with pytest.raises(ProtocolMismatchError) as caught:
        await device.engine.push()
    assert "newer sync protocol" in caught.value.message
    assert "update classlog" in caught.value.message
    assert device.pending() > 0
    device.transport.inner = original


async def test_reply_with_fields_this_device_does_not_know_is_a_clear_error(
    network: Network,
) -> None:
    device = network.device()

    async def newer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "changes": [],
                "cursor": 0,
                "has_more": False,
                "server_time": "2026-11-22T10:00:00Z",
                "shards": [1],
            },
        )

    device.transport.inner = httpx.MockTransport(newer)  # type: ignore[assignment]
    with pytest.raises(ProtocolMismatchError) as caught:
        await device.engine.pull()
    assert "newer than this device" in caught.value.message
    daemon = Daemon(device.engine, watch=False, backoff=Backoff(base=30))
    assert await daemon._round() is not None
    assert "newer" in (device.sync_store.state()["last_error"] or "")


def test_store_reads_survive_a_full_disk_without_changes(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        store = DeviceStore.open(disk / "home")
        filler = fill(disk, leave_bytes=0)
        assert store.sync_status().pending_count == 0
        store.close()
        filler.unlink()
