"""The app as a whole: help, command palette, bindings, start-up, NO_COLOR, literal text."""

from __future__ import annotations

import gc
import importlib
import inspect
import pkgutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

import tui
from schema.models import Action, StartedBy, TabKind
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.help import HelpScreen
from tui.records.today import TodayScreen
from tui.startup import STARTUP_LOG_ENV
from tui.text import clean, literal

Seen = Callable[[App[object]], str]


@pytest.mark.parametrize("key", ["f1", "question_mark"])
async def test_help_lists_this_screens_keys_with_what_they_do(
    store: DeviceStore, seen: Seen, key: str
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        assert isinstance(app.screen, HelpScreen)
        text = seen(app)
        assert "Type a student's name, spaces included, to find them" in text
        assert "⏎ Log: Log an intervention for the marked students" in text
        assert "1/2/3 Break: Take a Break for the highlighted student" in text
        assert "+ Mark: Mark or unmark the highlighted student" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_help_on_the_level_screen_explains_the_action_keys(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.press("m", "a", "enter", "1", "f1")
        text = seen(app)
        assert "The advised level is already chosen" in text
        assert "r Redirect: Tick or untick: Redirect" in text


async def test_the_command_palette_offers_the_apps_commands(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"today's log")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Today's log" in seen(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)


def _our_classes() -> list[type[DOMNode]]:
    classes: list[type[DOMNode]] = []
    for module_info in pkgutil.walk_packages(tui.__path__, "tui."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, DOMNode) and value.__module__ == module.__name__:
                classes.append(value)
    return classes


def test_every_binding_has_an_id_and_a_description() -> None:
    found = 0
    for cls in _our_classes():
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), (cls, binding)
            assert binding.id, (cls, binding.key)
            assert binding.description, (cls, binding.key)
            found += 1
    assert found > 50


def test_startup_imports_no_server_stack_and_no_later_screen() -> None:
    code = (
        "import sys, tui.app, tui.home.screen\n"
        "bad = [m for m in ('httpx', 'fastapi', 'sqlalchemy', 'tui.log.level', "
        "'tui.records.record', 'tui.follow_ups.screen') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("argv", [[], ["--home", "/tmp/x"], ["--home=/tmp/x"], ["--home="]])
def test_plain_classlog_reads_its_arguments_as_the_full_parser_does(argv: list[str]) -> None:
    """`classlog` and `classlog --home DIR` skip building the sub-command parsers (start-up)."""
    from classlog.cli import build_parser, tui_only_arguments

    fast = tui_only_arguments(argv)
    assert fast is not None
    full = vars(build_parser().parse_args(argv))
    assert full.pop("handler").__name__ == "open_tui"
    assert vars(fast) == full


@pytest.mark.parametrize(
    "argv", [["--home"], ["--home", "-h"], ["--help"], ["tui"], ["--ho", "/tmp/x"], ["x"]]
)
def test_any_other_command_line_goes_to_the_full_parser(argv: list[str]) -> None:
    from classlog.cli import tui_only_arguments

    assert tui_only_arguments(argv) is None


async def test_the_start_up_pause_of_the_garbage_collector_ends_when_the_app_is_ready(
    store: DeviceStore,
) -> None:
    gc.disable()
    try:
        app = ClasslogApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


async def test_startup_time_is_appended_to_the_startup_log(
    store: DeviceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "startup.log"
    monkeypatch.setenv(STARTUP_LOG_ENV, str(log))
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.startup_ms is not None
    [line] = log.read_text().splitlines()
    assert float(line) > 0


async def test_no_color_keeps_every_state_in_words_and_symbols(
    store: DeviceStore, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await pilot.press("m", "a", "plus")
        text = seen(app)
        assert "✓ Maya Lopez" in text
        assert "▶ [@click=app.quit]x[/]" in text
        assert "Enter logs for: Maya Lopez" in text
        await pilot.press("enter", "1", "r")
        text = seen(app)
        assert "(•) Level 1" in text
        assert "( ) Level 2" in text
        assert "[x] Redirect" in text
        assert "(Level 2 only)" in text


def test_clean_makes_control_characters_visible() -> None:
    assert clean("a\x1b[2Jb\x07") == "a␛[2Jb␇"
    assert clean("tab\there") == "tab here"
    assert clean("x\u202ey") == "x\ufffdy"
    assert clean("line\nbreak", keep_newlines=True) == "line\nbreak"
    assert clean("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"


def test_literal_never_parses_markup() -> None:
    content = literal("[b]bold[/b] [@click=app.quit]x[/]")
    assert content.plain == "[b]bold[/b] [@click=app.quit]x[/]"
    assert not content.spans


async def test_keys_typed_ahead_in_one_burst_land_on_the_screens_they_were_meant_for(
    store: DeviceStore, seen: Seen
) -> None:
    """A fast typist (or a pty harness) sends the whole Level 1 flow before any screen changes."""
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key, character in (
            ("m", "m"),
            ("a", "a"),
            ("enter", "\r"),
            ("1", "1"),
            ("r", "r"),
            ("enter", "\r"),
            ("2", "2"),
            ("s", "s"),
        ):
            app.post_message(events.Key(key, character))
        for _ in range(200):
            await pilot.pause()
            if store.running_tabs():
                break
        [incident] = store.todays_incidents()
        assert (incident.student_id, incident.behavior_code, incident.level) == (
            "s-maya",
            "DIS-CLASS",
            1,
        )
        assert incident.actions == [Action.REDIRECT]
        [tab] = store.running_tabs()
        assert (tab.student_id, tab.kind, tab.started_by) == (
            "s-maya",
            TabKind.OUT,
            StartedBy.STUDENT,
        )


async def test_a_key_typed_while_the_previous_one_is_handled_waits_for_it(
    store: DeviceStore,
) -> None:
    """A key typed into a settled app is handled at once; one that arrives while that key is
    still being handled (here: Enter saving a record, then home coming back) waits for it."""
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "r")
        take = app._keys.take

        def take_then_type_ahead(event: events.Event) -> bool:
            held = take(event)
            if isinstance(event, events.Key) and event.key == "enter" and not held:
                app.post_message(events.Key("2", "2"))
            return held

        app._keys.take = take_then_type_ahead  # type: ignore[method-assign]
        await pilot.press("enter")
        app._keys.take = take  # type: ignore[method-assign]
        for _ in range(100):
            await pilot.pause()
            if type(app.screen).__name__ == "TabStartScreen":
                break
        await pilot.press("s")
        [incident] = store.todays_incidents()
        assert incident.actions == [Action.REDIRECT]
        [tab] = store.running_tabs()
        assert (tab.student_id, tab.kind, tab.started_by) == (
            "s-maya",
            TabKind.OUT,
            StartedBy.STUDENT,
        )
