"""The classlog teacher app: ``ClasslogApp`` and ``run(home)``.

Start-up stays light: only the first screen (home) is imported here; every other screen is
imported when it is first opened. The first screen reads the device through
``schema.rows.DeviceReader`` (plain rows, no pydantic); the store with its models, grid and
rules loads in a thread once the first screen is painted, or at once if something needs it
sooner. The time from process start to ``on_ready`` is logged, and appended to
$CLASSLOG_STARTUP_LOG when set (for ``scripts/bench``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from schema.errors import ClasslogError, one_line
from schema.rows import DeviceReader, StudentRow
from tui.formatting import student_name
from tui.startup import end_startup_gc_pause, process_age_ms, record_startup
from tui.typeahead import KeySequencer

if TYPE_CHECKING:
    from textual.binding import ActiveBinding

    from schema.store import DeviceStore
    from tui.support.poll import RequestPoll
    from tui.support.watch import RequestWatcher

Clock = Callable[[], datetime]

SWITCH_INTERVAL_SECONDS = 0.0005
"""How long the thread running the screens keeps the GIL from Textual's input and output threads
when they ask for it (Python's default is 5 ms). A repaint reaches the terminal only once the
output thread has written it: with the default, a key's answer waited up to 5 ms behind whatever
the event loop did next. The two threads are idle between keys, so this costs nothing then. Set
once the store has loaded: while the loader thread runs beside the first screen, frequent
switches between two busy threads would only slow both."""


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

    def __init__(
        self,
        store: DeviceStore | None = None,
        *,
        reader: DeviceReader | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Run on an open ``store``, or on a ``reader`` alone: then the store is opened on the
        reader's connection after the first paint (see :attr:`store`)."""
        super().__init__()
        if reader is None:
            if store is None:
                raise TypeError("ClasslogApp needs a store or a reader")
            reader = store
        self.reader = reader
        self._store = store
        self._store_lock = threading.Lock()
        self._store_loader: threading.Thread | None = None
        self._clock = clock
        self._students: dict[str, StudentRow] | None = None
        self.startup_ms: float | None = None
        self._keys = KeySequencer(self)
        self.mobile = reader.meta("enrolled_role") == "mobile"
        """Enrolled as a mobile response device: home is the school, calls ring."""
        self._support_poll: RequestPoll | None = None
        self._watcher: RequestWatcher | None = None
        self.switch_interval: float | None = None
        """The GIL switch interval to set once the store has loaded (`run` sets it); None
        leaves the process's own."""

    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal go through the type-ahead sequencer (see tui.typeahead)."""
        if self._keys.take(event):
            return
        await super().on_event(event)

    @property
    def store(self) -> DeviceStore:
        """The device store (every write goes through it). Opened on the reader's connection by
        the loader thread after the first paint, or here, at once, if needed before that."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    from schema.store import DeviceStore

                    self._store = DeviceStore(self.reader.connection, wall=self.reader.wall)
        return self._store

    @property
    def store_loaded(self) -> bool:
        """Whether the store is open already (reading :attr:`store` would not block)."""
        return self._store is not None

    def _load_store(self) -> None:
        store = self.store
        store.grid()
        if self.switch_interval is not None:
            sys.setswitchinterval(self.switch_interval)

    def load_store_in_background(self) -> None:
        """Import the store, the models and the grid in a thread, leaving the event loop to
        the keys the teacher is already typing."""
        if self._store is None and self._store_loader is None:
            self._store_loader = threading.Thread(
                target=self._load_store, name="classlog-store-loader", daemon=True
            )
            self._store_loader.start()

    def wait_for_store_loader(self) -> None:
        if self._store_loader is not None:
            self._store_loader.join()

    @property
    def support_poll(self) -> RequestPoll:
        """The support requests on this device, re-read only when the database changed."""
        if self._support_poll is None:
            from tui.support.poll import RequestPoll

            self._support_poll = RequestPoll(self.reader.connection)
        return self._support_poll

    def _watch_requests(self) -> None:
        """A new call rings the bell and shows its banner over whatever screen is open."""
        if not self.store_loaded:
            return
        if self._watcher is None:
            from tui.support.watch import RequestWatcher

            self._watcher = RequestWatcher(self.reader.meta("device_id"))
        fresh = self._watcher.new_calls(self.support_poll.requests(self.store))
        if not fresh:
            return
        self.bell()
        from tui.support.banner import RequestBannerScreen

        banner = next(
            (screen for screen in self.screen_stack if isinstance(screen, RequestBannerScreen)),
            None,
        )
        if banner is not None:
            for _ in fresh:
                banner.another_call()
            return
        self.push_screen(RequestBannerScreen(fresh[0], others=len(fresh) - 1))

    def now(self) -> datetime:
        """Now, by the injected clock or the device's (server-corrected) clock."""
        return self._clock() if self._clock is not None else self.reader.now()

    @property
    def directory(self) -> dict[str, StudentRow]:
        """Every student on this device, loaded once (names for records outside the section)."""
        if self._students is None:
            self._students = self.reader.students()
        return self._students

    def forget_directory(self) -> None:
        self._students = None

    def student_label(self, student_id: str) -> str:
        return student_name(self.directory.get(student_id), fallback=student_id)

    def get_default_screen(self) -> Screen[None]:
        reader = self.reader
        enrolled = reader.meta("enrolled_staff_id")
        if enrolled and enrolled != reader.staff_id and reader.staff_member(enrolled) is not None:
            self.store.set_config(staff_id=enrolled)
        if reader.staff_id is None or reader.staff_member(reader.staff_id) is None:
            from tui.setup.first_run import NoRosterScreen, StaffPickerScreen

            if not reader.all_staff() and not reader.students():
                return NoRosterScreen()
            return StaffPickerScreen()
        if not self.directory:
            from tui.setup.first_run import NoRosterScreen

            return NoRosterScreen()
        if self.mobile:
            from tui.home.mobile import MobileHomeScreen

            return MobileHomeScreen()
        from tui.home.screen import HomeScreen

        return HomeScreen()

    def on_ready(self) -> None:
        self.startup_ms = process_age_ms()
        self.log.info(f"classlog ready {self.startup_ms:.1f} ms after process start")
        record_startup(self.startup_ms)
        end_startup_gc_pause()
        self.load_store_in_background()
        if self.mobile:
            from tui.support.watch import WATCH_SECONDS

            self.set_interval(WATCH_SECONDS, self._watch_requests)

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
        yield SystemCommand("Quit", "Close classlog", self.action_quit)
        yield from (
            command
            for command in super().get_system_commands(screen)
            if command.title in {"Keys", "Theme", "Screenshot"}
        )

    async def action_quit(self) -> None:
        """Quit, after one question when leaving would leave something behind: Take a Breaks
        still running, or records waiting to sync while no sync daemon runs to send them. A
        second ctrl+q on that question quits."""
        from tui.quit import QuitScreen, reasons_to_stay

        if isinstance(self.screen, QuitScreen):
            self.exit()
            return
        reasons = reasons_to_stay(self.reader)
        if not reasons:
            self.exit()
            return
        self.push_screen(QuitScreen(reasons), self._quit_answered)

    def _quit_answered(self, leave: bool | None) -> None:
        if leave:
            self.exit()

    def report_error(self, error: Exception) -> None:
        """A refused action, in one line (never parsed as markup)."""
        self.notify(one_line(error), title="Not saved", severity="error", markup=False, timeout=8)


def run(home: Path) -> int:
    """Open the device database in ``home`` and run the app until the teacher quits."""
    try:
        reader = DeviceReader.open_reader(home)
    except ClasslogError as error:
        sys.stderr.write(f"classlog: {one_line(error)}\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"classlog: cannot open {home}: {error.strerror or error}\n")
        return 2
    from tui.session import Session

    session = Session(home)
    try:
        session.acquire()
    except (ClasslogError, OSError) as error:
        reader.close()
        sys.stderr.write(f"classlog: {one_line(error)}\n")
        return 2
    app = ClasslogApp(reader=reader)
    app.switch_interval = SWITCH_INTERVAL_SECONDS
    switch_interval = sys.getswitchinterval()
    try:
        app.run()
        return app.return_code or 0
    finally:
        app.wait_for_store_loader()
        sys.setswitchinterval(switch_interval)
        reader.close()
        session.release()
