"""Leaving and sharing: quitting asks once when it would leave something behind; a second
screen on the same device data is refused; the demo never removes a home still in use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from tuikit import SCHOOL, TEACHER

from classlog.demo import _remove_unless_in_use
from schema.models import Action, IncidentDraft, TabKind
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from tui.app import ClasslogApp, run
from tui.quit import QuitScreen
from tui.session import AlreadyOpenError, Session

Seen = Callable[[App[object]], str]


async def test_quitting_with_nothing_left_behind_quits_at_once(store: DeviceStore) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_quitting_with_a_break_running_asks_once(store: DeviceStore, seen: Seen) -> None:
    store.start_tab("s-priya", TabKind.SPOT)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitScreen)
        text = seen(app)
        assert "Quit classlog?" in text
        assert "1 Take a Break still running" in text
        await pilot.press("n")
        assert app.is_running
        assert not isinstance(app.screen, QuitScreen)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert len(store.running_tabs()) == 1


async def test_quitting_with_records_waiting_and_no_daemon_says_so(
    store: DeviceStore, home: Path, seen: Seen
) -> None:
    sync = SyncStore.open(home)
    try:
        sync.record_enrollment(
            server_url="https://district.example",
            school_id=SCHOOL,
            role="teacher",
            staff_id=TEACHER,
            section_ids=["sec-p2"],
        )
    finally:
        sync.close()
    store.log_incident(
        IncidentDraft(
            student_id="s-maya", behavior_code="DIS-CLASS", level=2, actions=[Action.REDIRECT]
        )
    )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        text = seen(app)
        assert "waiting to sync, and the sync daemon is not running" in text
        assert "classlog sync" in text
        await pilot.press("y")
        await pilot.pause()
        assert not app.is_running


def test_a_second_screen_on_the_same_data_is_refused_in_one_line(
    store: DeviceStore, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = Session(home)
    first.acquire()
    try:
        with pytest.raises(AlreadyOpenError):
            Session(home).acquire()
        assert run(home) == 2
        err = capsys.readouterr().err
        assert err.startswith("classlog: classlog is already open on this device's data")
        assert len(err.strip().splitlines()) == 1
    finally:
        first.release()
    again = Session(home)
    again.acquire()
    again.release()


def test_the_demo_keeps_a_home_another_process_still_uses(
    store: DeviceStore, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = home.parent
    other = Session(home)
    other.acquire()
    try:
        _remove_unless_in_use(base, home)
        assert (home / "device.db").exists()
        assert "another classlog process still uses it" in capsys.readouterr().err
    finally:
        other.release()
    _remove_unless_in_use(base, home)
    assert not base.exists()
