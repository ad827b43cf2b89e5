"""The classlog teacher app: ``ClasslogApp`` and ``run(home)``.

Start-up stays light: only the first screen (home) is imported here; every other screen is
imported when it is first opened. The time from process start to ``on_ready`` is logged, and
appended to $CLASSLOG_STARTUP_LOG when set (for ``scripts/bench``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from schema.errors import ClasslogError, one_line
from schema.models import Student
from schema.store import DeviceStore
from tui.formatting import student_name
from tui.startup import end_startup_gc_pause, process_age_ms, record_startup
from tui.typeahead import KeySequencer

if TYPE_CHECKING:
    from textual.binding import ActiveBinding

Clock = Callable[[], datetime]


class ClasslogApp(App[int]):
    """Log Level 1 / Level 2 interventions and Take a Breaks to this device's store."""

    CSS_PATH = "app.tcss"
    TITLE = "classlog"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f1,question_mark",
            "help",
            "Help",
            id="app.help",
            tooltip="What every key does on this screen, and how the main flows go",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="app.quit",
            show=False,
            priority=True,
            tooltip="Close classlog (everything shown as saved is already on disk)",
        ),
    ]

    def __init__(self, store: DeviceStore, *, clock: Clock | None = None) -> None:
        super().__init__()
        self.store = store
        self._clock = clock
        self._students: dict[str, Student] | None = None
        self.startup_ms: float | None = None
        self._keys = KeySequencer(self)

    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal go through the type-ahead sequencer (see tui.typeahead)."""
        if self._keys.take(event):
            return
        await super().on_event(event)

    def now(self) -> datetime:
        """Now, by the injected clock or the store's (server-corrected) clock."""
        return self._clock() if self._clock is not None else self.store.now()

    @property
    def directory(self) -> dict[str, Student]:
        """Every student on this device, loaded once (names for records outside the section)."""
        if self._students is None:
            self._students = self.store.students()
        return self._students

    def forget_directory(self) -> None:
        self._students = None

    def student_label(self, student_id: str) -> str:
        return student_name(self.directory.get(student_id), fallback=student_id)

    def get_default_screen(self) -> Screen[None]:
        store = self.store
        if store.staff_id is None or store.staff_member(store.staff_id) is None:
            from tui.setup.first_run import NoRosterScreen, StaffPickerScreen

            if not store.all_staff() and not store.students():
                return NoRosterScreen()
            return StaffPickerScreen()
        if not self.directory:
            from tui.setup.first_run import NoRosterScreen

            return NoRosterScreen()
        from tui.home.screen import HomeScreen

        return HomeScreen()

    def on_ready(self) -> None:
        self.startup_ms = process_age_ms()
        self.log.info(f"classlog ready {self.startup_ms:.1f} ms after process start")
        record_startup(self.startup_ms)
        end_startup_gc_pause()

    def action_help(self) -> None:
        from tui.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        bindings: list[ActiveBinding] = list(self.active_bindings.values())
        self.push_screen(HelpScreen(self.screen, bindings))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from tui.home.screen import HomeScreen

        if isinstance(screen, HomeScreen):
            yield from screen.commands()
        yield SystemCommand("Help", "What every key does, and the main flows", self.action_help)
        yield SystemCommand("Quit", "Close classlog", self.exit)
        yield from (
            command
            for command in super().get_system_commands(screen)
            if command.title in {"Keys", "Theme", "Screenshot"}
        )

    def report_error(self, error: Exception) -> None:
        """A refused action, in one line (never parsed as markup)."""
        self.notify(one_line(error), title="Not saved", severity="error", markup=False, timeout=8)


def run(home: Path) -> int:
    """Open the device store in ``home`` and run the app until the teacher quits."""
    try:
        store = DeviceStore.open(home)
    except (ClasslogError, OSError) as error:
        sys.stderr.write(f"classlog: {one_line(error)}\n")
        return 2
    try:
        app = ClasslogApp(store)
        app.run()
        return app.return_code or 0
    finally:
        store.close()
