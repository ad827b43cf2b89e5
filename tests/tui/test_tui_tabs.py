"""Take a Break from home: start in at most 3 keystrokes, live timers, stop ("returned ready?")."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from tuikit import Wall

from schema.models import StartedBy, TabKind
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen

Seen = Callable[[App[object]], str]

TAB_KEYS = ("2", "enter")
"""With a student highlighted: TAB Out (2), started by the teacher (Enter)."""


async def test_a_take_a_break_starts_in_two_keystrokes(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t", "h")
        assert len(TAB_KEYS) <= 3
        await pilot.press(*TAB_KEYS)
        await pilot.pause()
        [tab] = store.running_tabs()
        assert tab.student_id == "s-thomas"
        assert tab.kind is TabKind.OUT
        assert tab.started_by is StartedBy.TEACHER
        text = seen(app)
        assert "Take a Break running (1):" in text
        assert "00:00 Thomas Nguyen TAB Out, by teacher" in text
        assert "Thomas Nguyen 07 on TAB" in text


async def test_choosing_the_kind_and_a_student_started_break_takes_three_keystrokes(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a")
        await pilot.press("ctrl+t", "3", "s")
        await pilot.pause()
        [tab] = store.running_tabs()
        assert tab.student_id == "s-maya"
        assert tab.kind is TabKind.OUT_AND_BACK
        assert tab.started_by is StartedBy.STUDENT


async def test_the_timer_runs(store: DeviceStore, wall: Wall, seen: Seen) -> None:
    store.start_tab("s-priya", TabKind.SPOT)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "00:00 Priya Raman in-class spot, by teacher" in seen(app)
        wall.advance(75)
        screen = app.screen
        assert isinstance(screen, HomeScreen)
        screen.refresh_timers()
        await pilot.pause()
        assert "01:15 Priya Raman" in seen(app)


async def test_stopping_out_and_back_asks_ready_and_a_reflection(
    store: DeviceStore, wall: Wall, seen: Seen
) -> None:
    store.start_tab("s-priya", TabKind.OUT_AND_BACK)
    wall.advance(300)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "r", "3")
        text = seen(app)
        assert "End Take a Break for Priya Raman" in text
        assert "running 05:00" in text
        assert "Returned ready? y yes · n no" in text
        await pilot.press("n", *"I needed space", "enter")
        await pilot.pause()
        assert store.running_tabs() == []
        [tab] = store.tabs_between(*store.day_bounds(store.local_today()))
        assert tab.returned_ready is False
        assert tab.reflection == "I needed space"
        assert tab.minutes == 5
        assert "Take a Break ended: Priya Raman, not ready on return" in seen(app)


async def test_end_tab_picks_among_several_running(store: DeviceStore, seen: Seen) -> None:
    store.start_tab("s-priya", TabKind.SPOT)
    store.start_tab("s-maya", TabKind.OUT)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+e")
        assert "End which Take a Break?" in seen(app)
        await pilot.press("2", "y")
        await pilot.pause()
        [still_running] = store.running_tabs()
        assert still_running.student_id == "s-priya"


async def test_a_take_a_break_is_never_called_iss_or_removal(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "2", "enter")
        await pilot.pause()
        for text in (seen(app),):
            assert "Suspension" not in text
            assert "ISS" not in text
            assert "emoval" not in text
        await pilot.press("ctrl+d")
        text = seen(app)
        assert "Maya Lopez Take a Break support waiting to sync" in text
        assert "0 interventions, 1 break" in text
        assert "Suspension" not in text
        assert "emoval" not in text
        await pilot.press("escape")
        assert "Maya Lopez 07 on TAB" in seen(app)
        assert store.counts_for_day() == {}


async def test_a_break_started_after_logging_the_take_a_break_action_is_linked_to_it(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "b", "enter")
        await pilot.pause()
        [incident] = store.todays_incidents()
        await pilot.press("1", "enter")
        await pilot.pause()
        [tab] = store.running_tabs()
        assert tab.student_id == "s-maya"
        assert tab.incident_id == incident.id


async def test_a_break_started_by_mistake_is_voided_with_a_reason(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "r", "2", "enter")
        await pilot.pause()
        [tab] = store.running_tabs()
        await pilot.press("p", "r", "2", "v")
        assert "Void the Take a Break of Priya Raman" in seen(app)
        await pilot.press("enter")
        assert "A reason is required." in seen(app)
        await pilot.press(*"wrong student", "enter")
        await pilot.pause()
        assert store.running_tabs() == []
        voided = store.tab(tab.id)
        assert voided.voided_at is not None
        assert voided.void_reason == "wrong student"
        assert voided.ended_at is None
        text = seen(app)
        assert "Take a Break voided: Priya Raman" in text
        assert "0 breaks running" in text
        await pilot.press("ctrl+d")
        assert "Priya Raman Take a Break support VOIDED" in seen(app)


async def test_an_ended_break_is_voided_from_its_own_screen(store: DeviceStore, seen: Seen) -> None:
    tab = store.start_tab("s-maya", TabKind.SPOT)
    store.stop_tab(tab.id, True)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d", "enter", "v", *"logged twice", "enter")
        await pilot.pause()
        assert store.tab(tab.id).void_reason == "logged twice"
        text = seen(app)
        assert "VOIDED" in text
        assert "Reason: logged twice" in text
        assert "Marisol Alvarez voided it: “logged twice”." in text


async def test_a_digit_on_a_student_ends_only_that_students_break(
    store: DeviceStore, seen: Seen
) -> None:
    store.start_tab("s-priya", TabKind.SPOT)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        store.start_tab("s-maya", TabKind.OUT)
        await pilot.press("m", "a", "1")
        assert "End Take a Break for Maya Lopez" in seen(app)
        await pilot.press("y")
        await pilot.pause()
        [still_running] = store.running_tabs()
        assert still_running.student_id == "s-priya"
        await pilot.press("t", "h", "3")
        assert "Take a Break for Thomas Nguyen" in seen(app)
        await pilot.press("escape")
        [still_running] = store.running_tabs()
        assert still_running.student_id == "s-priya"
