"""`classlog admin`: the administrator's dashboard (:class:`AdminApp`) and ``run(home)``.

It talks to the district server with this device's admin token; the teacher's app never
imports this package (nor httpx) unless the device was enrolled with an admin code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from textual.app import App
from textual.binding import Binding, BindingType

from tui.admin.api import SummariesClient
from tui.admin.cache import ReportCache
from tui.admin.connection import AdminConnection, NotAnAdminDevice, admin_connection
from tui.admin.filters import Filters
from tui.startup import end_startup_gc_pause, process_age_ms, record_startup

if TYPE_CHECKING:
    from tui.admin.dashboard import DashboardScreen

Clock = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


class AdminApp(App[int]):
    """Summaries for administrators, over the district server's API."""

    CSS_PATH = "admin.tcss"
    TITLE = "classlog admin"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f1,question_mark",
            "help",
            "Help",
            id="app.help",
            tooltip="Every key, and how to read the dashboard",
        ),
        Binding("q,ctrl+q", "quit", "Quit", id="app.quit", tooltip="Close the dashboard"),
    ]

    def __init__(
        self,
        connection: AdminConnection,
        *,
        clock: Clock = system_now,
        export_dir: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.connection = connection
        self.clock = clock
        self.client = SummariesClient(connection, transport=transport)
        self.cache = ReportCache(connection.home)
        self.export_dir = export_dir or Path.cwd()
        self.scope: str | None = None
        """What the server says this device's reports cover (``district`` or a school), once
        a report has arrived."""
        self.filters = Filters()
        try:
            self.zone = ZoneInfo(connection.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = ZoneInfo("UTC")
        self.first_drawn_ms: float | None = None

    def wall_now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(self.zone).date()

    def scope_words(self) -> str:
        if self.scope is None:
            scope = "scope: loading"
        elif self.scope == "district":
            scope = "scope: the district"
        else:
            scope = f"scope: {self.scope}"
        return f"classlog admin · {scope} · {self.connection.server_url}"

    def get_default_screen(self) -> DashboardScreen:
        from tui.admin.dashboard import DashboardScreen

        return DashboardScreen()

    def on_ready(self) -> None:
        """`classlog` pauses the garbage collector while a TUI starts; turn it back on."""
        end_startup_gc_pause()

    def mark_drawn(self) -> None:
        """The first panel is on screen (for the start-up figure of scripts/bench)."""
        if self.first_drawn_ms is None:
            self.first_drawn_ms = process_age_ms()
            self.log.info(f"first panel drawn {self.first_drawn_ms:.1f} ms after process start")
            record_startup(self.first_drawn_ms)

    def action_help(self) -> None:
        from tui.admin.help import AdminHelpScreen

        if isinstance(self.screen, AdminHelpScreen):
            return
        self.push_screen(AdminHelpScreen(self.screen, list(self.active_bindings.values())))

    async def on_unmount(self) -> None:
        await self.client.aclose()


def run(home: Path, *, export_dir: Path | None = None) -> int:
    """Open the dashboard for the admin device in ``home``."""
    try:
        connection = admin_connection(home)
    except NotAnAdminDevice as error:
        sys.stderr.write(f"classlog: {error}\n")
        return 2
    app = AdminApp(connection, export_dir=export_dir)
    app.run()
    return app.return_code or 0
