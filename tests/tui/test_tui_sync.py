"""Sync on home (issue 4 item 7): the daemon's state in words, the backlog's progress bar,
"sync now" reaching a real process by SIGUSR1, and the dead letters screen.

The daemon's side is played by :class:`SyncStore` on its own connection, as ``classlog sync``
writes it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.content import Content
from textual.widgets import ProgressBar
from tuikit import SCHOOL, TEACHER, Wall

from schema.models import Action, IncidentDraft, TabKind
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import OpResult, OpStatus
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen
from tui.home.sync_status import DrainProgress, SyncStatusLine
from tui.sync.dead_letters import DeadLettersScreen

Seen = Callable[[App[object]], str]
MARKUP_REASON = "[@click=app.quit]bad[/] field [b]note[/b] is too long"

SIGNAL_RECORDER = """
import os, signal, sys
from pathlib import Path

def received(signum, frame):
    Path(sys.argv[1]).write_text(signal.Signals(signum).name)
    os._exit(0)

signal.signal(signal.SIGUSR1, received)
print("ready", flush=True)
while True:
    signal.pause()
"""


@pytest.fixture
def daemon(home: Path, wall: Wall, store: DeviceStore) -> Iterator[SyncStore]:
    """The daemon's own connection to the device database."""
    sync = SyncStore.open(home, wall=wall)
    yield sync
    sync.close()


@pytest.fixture
def signal_recorder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A real process standing in for the daemon: it writes the name of the first SIGUSR1 it
    receives to a file, then exits 0. Yielded once its handler is installed."""
    received = tmp_path / "received"
    child = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_RECORDER, str(received)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"
        yield child, received
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def enroll(sync: SyncStore) -> None:
    sync.record_enrollment(
        server_url="https://district.example",
        school_id=SCHOOL,
        role="teacher",
        staff_id=TEACHER,
        section_ids=["sec-p2"],
    )


def log_level_2(store: DeviceStore, student_id: str = "s-maya") -> str:
    return store.log_incident(
        IncidentDraft(
            student_id=student_id,
            behavior_code="DIS-CLASS",
            level=2,
            actions=[Action.REDIRECT, Action.REMOVAL],
            removal_minutes=20,
        )
    ).id


def acknowledge(sync: SyncStore, count: int) -> None:
    """The server applied the next ``count`` ops, as a push round records it."""
    batch = sync.take_batch(max_ops=count, max_bytes=10_000_000)
    sync.apply_push_results(
        batch.ops, [OpResult(op_id=op.op_id, status=OpStatus.APPLIED) for op in batch.ops]
    )


def refuse_everything_pending(sync: SyncStore, reason: str) -> None:
    batch = sync.take_batch(max_ops=1000, max_bytes=10_000_000)
    sync.apply_push_results(
        batch.ops,
        [OpResult(op_id=op.op_id, status=OpStatus.REJECTED, reason=reason) for op in batch.ops],
    )


def exited_pid() -> int:
    """The pid of a process that has already exited (what a daemon killed with -9 leaves in
    sync_state)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def notices(app: App[object]) -> list[str]:
    """The messages of the notifications on screen now."""
    return [notification.message for notification in app._notifications]


def poll(app: App[object]) -> HomeScreen:
    """Run the home screen's sync poll now instead of waiting for its timer."""
    screen = app.screen
    assert isinstance(screen, HomeScreen)
    screen._poll_sync()
    return screen


# -- the state, in words ------------------------------------------------------------------------


async def test_not_enrolled_says_so_and_how_to_sync_now_is_refused(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        assert "Sync: not connected (this device is not enrolled)" in seen(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert notices(app) == [
            "Cannot sync now: this device is not enrolled: classlog enroll URL CODE"
        ]


async def test_enrolled_without_a_daemon_says_the_daemon_is_not_running(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "Sync: daemon not running (start it: classlog sync)" in seen(app)
        assert "never synced" in seen(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert notices(app) == ["Cannot sync now: the sync daemon is not running: classlog sync"]


async def test_a_live_daemon_online_shows_online_pending_age_and_last_sync(
    store: DeviceStore, daemon: SyncStore, wall: Wall, seen: Seen
) -> None:
    enroll(daemon)
    daemon.record_daemon(os.getpid())
    daemon.record_success()
    log_level_2(store)
    wall.advance(600)
    pending = store.sync_status().pending_count
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        text = seen(app)
        assert f"Sync: online · {pending} waiting to sync (oldest 10 min)" in text
        assert "last synced 10:05 (10 min ago)" in text
        assert "offline" not in text
        assert "not running" not in text


async def test_offline_shows_the_last_error_in_words_with_its_age(
    store: DeviceStore, daemon: SyncStore, wall: Wall, seen: Seen
) -> None:
    enroll(daemon)
    daemon.record_daemon(os.getpid())
    daemon.record_success()
    wall.advance(3600)
    daemon.record_error("cannot reach https://district.example: [red]timeout[/]", online=False)
    wall.advance(180)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        text = seen(app)
        assert "Sync: offline · 0 waiting to sync" in text
        assert "last error 3 min ago: cannot reach https://district.example: [red]timeout[/]" in (
            text
        )
        assert "last synced 10:05 (1 h ago)" in text


async def test_a_daemon_that_has_not_reported_yet_is_starting(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    daemon.record_daemon(os.getpid())
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "Sync: daemon starting" in seen(app)


async def test_a_daemon_killed_without_cleaning_up_is_not_running_and_gets_no_signal(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    daemon.record_daemon(exited_pid())
    daemon.record_success()
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "Sync: daemon not running (start it: classlog sync)" in seen(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert notices(app) == ["Cannot sync now: the sync daemon is not running: classlog sync"]


async def test_the_state_changes_on_the_next_poll(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "daemon not running" in seen(app)
        daemon.record_daemon(os.getpid())
        daemon.record_error("connection refused", online=False)
        poll(app)
        await pilot.pause()
        assert "Sync: offline" in seen(app)
        daemon.record_success()
        poll(app)
        await pilot.pause()
        assert "Sync: online" in seen(app)
        assert "last error" not in seen(app)


# -- sync now -----------------------------------------------------------------------------------


async def test_sync_now_sends_sigusr1_to_the_running_daemon(
    store: DeviceStore,
    daemon: SyncStore,
    signal_recorder: tuple[subprocess.Popen[str], Path],
    seen: Seen,
) -> None:
    child, received = signal_recorder
    enroll(daemon)
    daemon.record_daemon(child.pid)
    daemon.record_success()
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "Sync: online" in seen(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert notices(app) == ["Syncing now."]
        assert child.wait(timeout=10) == 0
    assert received.read_text() == "SIGUSR1"


async def test_sync_now_is_refused_while_the_daemon_is_starting(
    store: DeviceStore,
    daemon: SyncStore,
    signal_recorder: tuple[subprocess.Popen[str], Path],
    seen: Seen,
) -> None:
    """Before its first report the daemon may not have its SIGUSR1 handler yet (the default
    action would kill it): nothing is sent."""
    child, received = signal_recorder
    enroll(daemon)
    daemon.record_daemon(child.pid)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert notices(app) == [
            "Cannot sync now: the sync daemon is starting; it syncs as soon as it is up"
        ]
    assert child.poll() is None
    assert not received.exists()


async def test_sync_now_and_dead_letters_are_in_help_and_the_palette(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 40), notifications=True) as pilot:
        await pilot.press("f1")
        text = seen(app)
        assert "^s Sync now: Ask the sync daemon to sync" in text
        assert "^l Refused: What the district refused for good, and why" in text
        await pilot.press("escape", "ctrl+p", *"sync now")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Sync now" in seen(app)
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"refused by")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DeadLettersScreen)


# -- the backlog's progress bar -----------------------------------------------------------------


async def test_the_progress_bar_shows_a_drain_and_goes_away_after_it(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    daemon.record_daemon(os.getpid())
    daemon.record_success()
    for student_id in ("s-maya", "s-sam", "s-priya", "s-thomas"):
        log_level_2(store, student_id)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert not app.screen.query(DrainProgress)
        assert "Backlog" not in seen(app)

        total = daemon.update_draining()
        assert total >= 4
        poll(app)
        await pilot.pause()
        bar = app.screen.query_one(ProgressBar)
        assert (bar.total, bar.progress) == (total, 0)
        assert f"Backlog: 0 of {total} sent" in seen(app)
        assert "0%" in seen(app)

        acknowledge(daemon, total // 2)
        assert daemon.update_draining() == total
        sent = total - store.sync_status().pending_count
        assert 0 < sent < total
        poll(app)
        await pilot.pause()
        assert (bar.total, bar.progress) == (total, sent)
        assert f"Backlog: {sent} of {total} sent" in seen(app)
        assert f"{100 * sent // total}%" in seen(app)
        assert f"{total - sent} waiting to sync" in seen(app)

        acknowledge(daemon, total)
        assert daemon.update_draining() == 0
        poll(app)
        await pilot.pause()
        assert not app.screen.query_one(DrainProgress).display
        assert "Backlog" not in seen(app)
        assert "0 waiting to sync" in seen(app)


async def test_a_drain_total_left_over_with_an_empty_outbox_shows_no_bar(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    with daemon.connection:
        daemon.connection.execute("UPDATE sync_state SET draining_total = 50 WHERE id = 1")
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert not app.screen.query(DrainProgress)
        assert "Backlog" not in seen(app)


# -- dead letters -------------------------------------------------------------------------------


async def test_dead_letters_list_kind_student_reason_and_time_literally(
    store: DeviceStore, daemon: SyncStore, seen: Seen
) -> None:
    enroll(daemon)
    daemon.record_daemon(os.getpid())
    daemon.record_success()
    log_level_2(store, "s-markup")
    refuse_everything_pending(daemon, MARKUP_REASON)
    store.start_tab("s-sofia", TabKind.OUT)
    refuse_everything_pending(daemon, "student not in this school")
    with daemon.connection:
        daemon.connection.execute(
            "INSERT INTO dead_letters (op_id, kind, entity_id, op, reason, at) "
            "VALUES ('op-gone', 'incident', 'gone', 'retract', 'unknown record', ?)",
            ("2026-09-13T14:00:00+00:00",),
        )
    count = store.sync_status().dead_letter_count
    assert count >= 3
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 40), notifications=True) as pilot:
        await pilot.pause()
        assert f"{count} refused by the district (ctrl+l lists them)" in seen(app)
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, DeadLettersScreen)
        text = seen(app)
        assert f"Refused by the district: {count}" in text
        assert (
            "Intervention record — [@click=app.quit]x[/] · Mon Sep 14 10:05 "
            f"Refused: {MARKUP_REASON}" in text
        )
        assert "Take a Break — Sofía Castañeda · Mon Sep 14 10:05 Refused: student not in" in text
        assert (
            "Intervention record (removal) — record no longer on this device · Sun Sep 13 09:00 "
            "Refused: unknown record" in text
        )
        await pilot.click(offset=(10, 2))
        await pilot.pause()
        assert isinstance(app.screen, DeadLettersScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_the_dead_letters_screen_says_when_nothing_was_refused(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("ctrl+l")
        assert "Refused by the district: 0 · nothing was refused" in seen(app)


def test_dead_letters_are_read_with_the_student_of_each_record(
    store: DeviceStore, daemon: SyncStore
) -> None:
    incident_id = log_level_2(store, "s-maya")
    refuse_everything_pending(daemon, "refused")
    letters = store.dead_letters()
    kinds = {letter["kind"] for letter in letters}
    assert "incident" in kinds
    assert all(letter["student_id"] == "s-maya" for letter in letters)
    assert any(letter["entity_id"] == incident_id for letter in letters)
    assert store.daemon_pid() is None
    daemon.record_daemon(4242)
    assert store.daemon_pid() == 4242


async def test_a_poll_that_only_changes_ages_repaints_the_sync_line_without_a_layout(
    store: DeviceStore, daemon: SyncStore, wall: Wall, monkeypatch: pytest.MonkeyPatch
) -> None:
    enroll(daemon)
    daemon.record_daemon(os.getpid())
    daemon.record_success()
    layouts: list[bool] = []
    update = SyncStatusLine.update

    def recording_update(line: SyncStatusLine, content: Content, *, layout: bool = True) -> None:
        layouts.append(layout)
        update(line, content, layout=layout)

    monkeypatch.setattr(SyncStatusLine, "update", recording_update)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        layouts.clear()
        wall.advance(120)
        poll(app)
        poll(app)
        assert layouts == [False]
        daemon.record_error("x" * 200, online=False)
        poll(app)
        assert layouts == [False, True]
