"""The dashboard screen: filters on top, one tab per report, each loaded in its own worker."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.admin.api import FetchError
from tui.admin.filter_bar import FilterBar
from tui.admin.panel import ReportPanel
from tui.text import clean

if TYPE_CHECKING:
    from tui.admin.app import AdminApp

PANELS: tuple[tuple[str, str], ...] = (
    ("big5", "Big 5"),
    ("levels", "Levels"),
    ("tab", "Take a Break"),
    ("follow-ups", "Follow-ups"),
    ("progression", "Progression"),
    ("equity", "Equity"),
)


def pane_id(report: str) -> str:
    return f"pane-{report}"


def panel_id(report: str) -> str:
    return f"panel-{report}"


class DashboardScreen(Screen[None]):
    """Summaries for the filters chosen, one report per tab."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                str(number),
                f"show_panel('{report}')",
                title,
                id=f"dashboard.panel.{report}",
                show=False,
                tooltip=f"Show the {title} panel",
            )
            for number, (report, title) in enumerate(PANELS, start=1)
        ),
        Binding(
            "s",
            "filter('school')",
            "School",
            id="dashboard.school",
            show=False,
            tooltip="Pick the school, or all schools",
        ),
        Binding(
            "d",
            "filter('period')",
            "Dates",
            id="dashboard.period",
            show=False,
            tooltip="This month, last month or this school year",
        ),
        Binding(
            "g",
            "filter('grade')",
            "Grade",
            id="dashboard.grade",
            show=False,
            tooltip="One grade, or all",
        ),
        Binding(
            "l",
            "filter('level')",
            "Level",
            id="dashboard.level",
            show=False,
            tooltip="One level, or all",
        ),
        Binding("r", "reload", "Reload", id="dashboard.reload", tooltip="Fetch the panel again"),
        Binding(
            "x",
            "export",
            "CSV",
            id="dashboard.export",
            tooltip="Write the current view as a CSV file",
        ),
    ]
    HELP = (
        "Summaries from the district server for this device's scope, with the filters on top. "
        "Numbers come from the same code as `classlog district summary` and the HTML report."
    )

    class Loaded(Message):
        def __init__(self, report: str, key: str, data: dict[str, Any], at: datetime) -> None:
            super().__init__()
            self.report = report
            self.key = key
            self.data = data
            self.at = at

    class Failed(Message):
        def __init__(self, report: str, key: str, reason: str) -> None:
            super().__init__()
            self.report = report
            self.key = key
            self.reason = reason

    def __init__(self) -> None:
        super().__init__()
        self.loaded_keys: dict[str, str] = {}
        """report -> the filters key its panel shows (or is loading)."""

    @property
    def admin(self) -> AdminApp:
        from tui.admin.app import AdminApp

        app = self.app
        assert isinstance(app, AdminApp)
        return app

    def compose(self) -> ComposeResult:
        admin = self.admin
        with Horizontal(id="admin-title"):
            yield Static(Content(clean(admin.scope_words())), id="admin-scope", markup=False)
            yield Static("filters: s d g l", id="admin-keys")
        yield FilterBar(admin.filters)
        with TabbedContent(id="panels"):
            for report, title in PANELS:
                with TabPane(title, id=pane_id(report)):
                    yield ReportPanel(report, title, zone=admin.zone, id=panel_id(report))
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{panel_id(PANELS[0][0])}", ReportPanel).focus()
        self.load(PANELS[0][0])
        self.run_worker(self._fetch_schools(), group="schools", exit_on_error=False)

    class SchoolsFound(Message):
        def __init__(self, schools: list[tuple[str, str]]) -> None:
            super().__init__()
            self.schools = schools

    async def _fetch_schools(self) -> None:
        try:
            schools = await self.admin.client.schools()
        except FetchError:
            return
        self.post_message(self.SchoolsFound(schools))

    def on_dashboard_screen_schools_found(self, message: SchoolsFound) -> None:
        self.query_one(FilterBar).set_schools(message.schools)

    # -- loading ------------------------------------------------------------------------

    def panel(self, report: str) -> ReportPanel:
        return self.query_one(f"#{panel_id(report)}", ReportPanel)

    @property
    def current_report(self) -> str:
        active = self.query_one(TabbedContent).active or pane_id(PANELS[0][0])
        return active.removeprefix("pane-")

    def load(self, report: str, *, force: bool = False) -> None:
        """Fetch ``report`` for the current filters in a worker, unless its panel already shows
        (or is fetching) them."""
        admin = self.admin
        key = f"{report}?{admin.filters.key(admin.today())}"
        if not force and self.loaded_keys.get(report) == key:
            return
        self.loaded_keys[report] = key
        self.panel(report).show_loading()
        self.run_worker(
            self._fetch(report, key, admin.filters.query(admin.today())),
            group=f"report-{report}",
            exclusive=True,
            exit_on_error=False,
        )

    async def _fetch(self, report: str, key: str, params: dict[str, str]) -> None:
        try:
            data = await self.admin.client.report(report, params)
        except FetchError as error:
            self.post_message(self.Failed(report, key, error.reason))
            return
        self.post_message(self.Loaded(report, key, data, self.admin.wall_now()))

    def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        if self.loaded_keys.get(message.report) != message.key:
            return
        self.admin.cache.put(message.key, message.data, message.at)
        self._show_scope(message.data)
        self.panel(message.report).show_data(message.data, message.at)
        self.admin.mark_drawn()

    def on_dashboard_screen_failed(self, message: Failed) -> None:
        if self.loaded_keys.get(message.report) != message.key:
            return
        self.loaded_keys.pop(message.report, None)
        panel = self.panel(message.report)
        cached = self.admin.cache.get(message.key)
        panel.show_problem(message.reason, cached)
        if cached is not None:
            self._show_scope(cached[0])
        self.admin.mark_drawn()

    def _show_scope(self, data: dict[str, Any]) -> None:
        scope = data.get("scope")
        if isinstance(scope, str) and scope and self.admin.scope is None:
            self.admin.scope = scope
            self.query_one("#admin-scope", Static).update(Content(clean(self.admin.scope_words())))

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        report = (event.pane.id or "").removeprefix("pane-")
        self.load(report)
        self.panel(report).focus()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.admin.filters = event.filters
        self.load(self.current_report)
        self.panel(self.current_report).focus()

    def on_report_panel_drill_requested(self, event: ReportPanel.DrillRequested) -> None:
        from tui.admin.drill import RecordsScreen

        params = {**self.admin.filters.query(self.admin.today()), **event.params}
        self.app.push_screen(RecordsScreen(event.title, params))

    # -- actions ------------------------------------------------------------------------

    def action_show_panel(self, report: str) -> None:
        self.query_one(TabbedContent).active = pane_id(report)

    def action_filter(self, name: str) -> None:
        self.query_one(FilterBar).open(name)

    def action_reload(self) -> None:
        self.load(self.current_report, force=True)

    def action_export(self) -> None:
        panel = self.panel(self.current_report)
        view = panel.view
        if view is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        admin = self.admin
        stamp = admin.wall_now().strftime("%Y%m%d-%H%M%S")
        safe_key = "".join(char if char.isalnum() else "-" for char in view.key).strip("-")
        target = admin.export_dir / f"classlog-{panel.report}-{safe_key}-{stamp}.csv"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8", newline="") as sink:
                writer = csv.writer(sink)
                writer.writerow([csv_cell(column) for column in view.columns])
                writer.writerows([[csv_cell(cell) for cell in row] for row in view.text_rows()])
        except OSError as error:
            self.notify(f"Not written: {error.strerror}", severity="error", markup=False)
            return
        self.notify(f"Wrote {target}", title="CSV", markup=False)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (a leading ' disarms it);
    plain negative numbers stay numbers."""
    if text.startswith(FORMULA_STARTS):
        try:
            float(text)
        except ValueError:
            return f"'{text}"
    return text
