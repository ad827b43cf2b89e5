"""Home: the section's students, filtering, counts, sync state, first run and literal names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from textual.app import App

from schema.models import Action, IncidentDraft
from schema.rows import SyncStatus
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen
from tui.home.student_list import StudentList
from tui.home.sync_status import sync_words
from tui.setup.first_run import NoRosterScreen, StaffPickerScreen

Seen = Callable[[App[object]], str]
NOW = datetime(2026, 9, 14, 15, 5, tzinfo=UTC)


async def test_home_shows_the_current_periods_section_and_its_students(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)):
        text = seen(app)
        assert "Period 2 · Science 7 (7) · Marisol Alvarez · Mon Sep 14" in text
        for name in ("Maya Lopez", "Sam Okafor 07 IEP", "Sofía Castañeda", "Priya Raman"):
            assert name in text
        assert "Ada Byrne" not in text
        assert "Sync: not connected (this device is not enrolled) · 0 waiting to sync" in text


async def test_without_a_period_schedule_the_first_section_is_shown(
    store: DeviceStore, seen: Seen
) -> None:
    store.set_config(period_schedule="{}")
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)):
        assert "Period 2 · Science 7" in seen(app)


async def test_typing_filters_at_once_and_escape_clears(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "o")
        text = seen(app)
        assert "Find: so" in text
        assert "Sofía Castañeda" in text
        assert "Maya Lopez" not in text
        student_list = app.screen.query_one(StudentList)
        assert student_list.highlighted_student is not None
        assert student_list.highlighted_student.sourced_id == "s-sofia"
        await pilot.press("backspace", "a", "m")
        assert student_list.highlighted_student.sourced_id == "s-sam"
        await pilot.press("escape")
        text = seen(app)
        assert "Find: type a name" in text
        assert "Maya Lopez" in text
        assert student_list.shown_count == 7


async def test_typing_never_queries_the_database(store: DeviceStore) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        statements: list[str] = []
        store.connection.set_trace_callback(statements.append)
        try:
            await pilot.press("p", "r", "i", "backspace", "escape", "t", "h")
        finally:
            store.connection.set_trace_callback(None)
        polls = ("outbox", "sync_state", "dead_letters", "meta")
        assert [s for s in statements if not any(word in s for word in polls)] == []


async def test_todays_counts_and_open_follow_ups_are_shown(store: DeviceStore, seen: Seen) -> None:
    for _ in range(2):
        store.log_incident(
            IncidentDraft(
                student_id="s-priya", behavior_code="DRESS", level=1, actions=[Action.RETEACH]
            )
        )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = seen(app)
        assert "Priya Raman 07 2" in text
        assert "Follow-ups open: 4 (ctrl+f)" in text


def test_sync_words_say_pending_age_last_success_errors_and_dead_letters() -> None:
    status = SyncStatus(
        pending_count=3,
        oldest_pending_at=datetime(2026, 9, 14, 13, 5, tzinfo=UTC),
        online=False,
        last_success_at=datetime(2026, 9, 14, 14, 45, tzinfo=UTC),
        last_error="connect timeout [red]x[/red]\x1b[2J",
        last_error_at=datetime(2026, 9, 14, 15, 0, tzinfo=UTC),
        dead_letter_count=2,
        draining_total=0,
        enrolled=True,
    )
    words = sync_words(status, NOW, UTC)
    assert words.startswith("Sync: offline · 3 waiting to sync (oldest 2 h)")
    assert "last synced 14:45 (20 min ago)" in words
    assert "last error 5 min ago: connect timeout [red]x[/red]␛[2J" in words
    assert "2 refused by the district (ctrl+l lists them)" in words


def test_sync_words_when_not_enrolled() -> None:
    status = SyncStatus(0, None, None, None, None, None, 0, 0, enrolled=False)
    assert sync_words(status, NOW, UTC) == (
        "Sync: not connected (this device is not enrolled) · 0 waiting to sync"
    )


async def test_a_level_2_record_waits_to_sync(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "right", "m", "r", "enter")
        await pilot.press(*"hit a classmate", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.sync_status().pending_count > 0
        app.screen.query_one("#home-sync").show_status(  # type: ignore[attr-defined]
            store.sync_status(), store.now(), store.timezone
        )
        await pilot.pause()
        assert f"{store.sync_status().pending_count} waiting to sync" in seen(app)


async def test_a_name_with_markup_is_shown_literally_and_clicking_it_does_nothing(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "[@click=app.quit]x[/]" in seen(app)
        await pilot.click(StudentList, offset=(8, 0))
        await pilot.click(StudentList, offset=(5, 0))
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None
        await pilot.press("enter")
        assert "Log: which behavior? [@click=app.quit]x[/]" in seen(app)
        assert app.is_running


async def test_control_characters_in_names_are_shown_as_symbols(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)):
        text = seen(app)
        assert "Evan␛[31m Reyes" in text
        assert "\x1b" not in text


async def test_switching_section_shows_its_students(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+g")
        assert "Show which section?" in seen(app)
        await pilot.press("down", "enter")
        text = seen(app)
        assert "Period 3 · Science 8 (1)" in text
        assert "Ada Byrne" in text
        await pilot.press("ctrl+g", "down", "enter")
        text = seen(app)
        assert "All students (8)" in text


async def test_first_run_asks_which_staff_member_uses_the_device(
    unstaffed_store: DeviceStore, seen: Seen
) -> None:
    bare_store = unstaffed_store
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, StaffPickerScreen)
        assert "Who uses this device?" in seen(app)
        await pilot.press("w", "h", "i", "t", "enter")
        assert bare_store.staff_id == "staff-whitfield"
        assert isinstance(app.screen, HomeScreen)
        assert "Jordan Whitfield" in seen(app)


async def test_with_no_roster_the_app_says_how_to_import_one(
    bare_store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(bare_store)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, NoRosterScreen)
        assert "classlog roster import PATH" in seen(app)
        await pilot.press("r")
        assert isinstance(app.screen, NoRosterScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_home_fits_the_terminal(
    store: DeviceStore, seen: Seen, size: tuple[int, int]
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = seen(app)
        assert "Log" in text
        assert "f1 Help" in text
