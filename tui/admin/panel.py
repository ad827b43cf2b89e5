"""One report's panel: its loading state, its views as a chart or a table, the bar or row the
administrator has picked, and what is shown when the server cannot be reached."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, DataTable, Static
from textual_plotext import PlotextPlot

from tui.admin import charts
from tui.admin.views import View, report_views
from tui.text import clean


def when(moment: datetime, zone: tzinfo | None) -> str:
    """A fetch time as the administrator reads it: local date, hour and minute."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


class ReportPanel(Vertical):
    """The views of one summary report. The screen loads it; the panel only draws."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "toggle_table",
            "Table/chart",
            id="panel.table",
            tooltip="Switch between the chart and a table of the same numbers",
        ),
        Binding(
            "right_square_bracket",
            "next_view",
            "Next view",
            id="panel.next",
            tooltip="The next view of this report (e.g. by behavior, by location, by hour)",
        ),
        Binding(
            "left_square_bracket",
            "previous_view",
            "Prev view",
            id="panel.previous",
            show=False,
            tooltip="The previous view of this report",
        ),
        Binding("down,j", "select(1)", "Next bar", id="panel.down", show=False),
        Binding("up,k", "select(-1)", "Previous bar", id="panel.up", show=False),
        Binding(
            "enter",
            "drill",
            "Records",
            id="panel.drill",
            tooltip="The Level 2 records behind the picked bar or row",
        ),
    ]

    can_focus = True

    class DrillRequested(Message):
        """The administrator asked for the records behind one bar or row."""

        def __init__(self, panel: ReportPanel, title: str, params: dict[str, str]) -> None:
            super().__init__()
            self.panel = panel
            self.title = title
            self.params = params

    def __init__(
        self, report: str, title: str, *, zone: tzinfo | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="report-panel")
        self.zone = zone
        self.report = report
        self.title = title
        self.views: list[View] = []
        self.view_index = 0
        self.selected = 0
        self.show_table = False
        self.data: dict[str, Any] | None = None
        self.fetched_at: datetime | None = None
        self.problem: str | None = None
        self.loading_now = False

    def compose(self) -> ComposeResult:
        yield Static("", classes="panel-status", markup=False)
        yield Static("", classes="panel-notes", markup=False)
        yield Static("", classes="panel-view", markup=False)
        with ContentSwitcher(initial="chart", classes="panel-body"):
            yield PlotextPlot(id="chart")
            table: DataTable[Text] = DataTable(id="table", cursor_type="row", zebra_stripes=True)
            table.can_focus = False
            yield table
        yield Static("", classes="panel-caption", markup=False)

    # -- states ---------------------------------------------------------------------------

    def show_loading(self) -> None:
        self.loading_now = True
        self._show_status()

    def show_data(self, data: dict[str, Any], fetched_at: datetime) -> None:
        """Fresh numbers from the server."""
        self.loading_now = False
        self.problem = None
        self._set_data(data, fetched_at)

    def show_problem(
        self, reason: str, cached: tuple[dict[str, Any], datetime] | None = None
    ) -> None:
        """A failed load: the last fetched numbers (ours, or ``cached`` from an earlier session)
        stay, with their time and ``reason`` in words."""
        self.loading_now = False
        self.problem = reason
        if self.data is None and cached is not None:
            self._set_data(*cached)
        else:
            self._show_status()

    def _set_data(self, data: dict[str, Any], fetched_at: datetime) -> None:
        self.data = data
        self.fetched_at = fetched_at
        current = self.views[self.view_index].key if self.views else None
        self.views = report_views(self.report, data)
        keys = [view.key for view in self.views]
        self.view_index = keys.index(current) if current in keys else 0
        self.selected = 0
        self._show_status()
        self._redraw()

    def _show_status(self) -> None:
        status = self.query_one(".panel-status", Static)
        parts: list[str] = []
        if self.loading_now:
            parts.append(f"Loading {self.title}\N{HORIZONTAL ELLIPSIS}")
        if self.problem is not None:
            if self.fetched_at is not None:
                fetched = when(self.fetched_at, self.zone)
                parts.append(f"Not updated: {self.problem}. Showing data fetched {fetched}.")
            else:
                parts.append(f"Nothing to show: {self.problem}.")
        elif self.fetched_at is not None and not self.loading_now:
            parts.append(
                f"{self.title}: {_range_words(self.data)}Fetched {when(self.fetched_at, self.zone)}"
            )
        status.update(" ".join(parts))
        status.set_class(self.problem is not None, "-problem")
        status.set_class(self.loading_now, "-loading")

    # -- drawing --------------------------------------------------------------------------

    @property
    def view(self) -> View | None:
        return self.views[self.view_index] if self.views else None

    def _redraw(self) -> None:
        view = self.view
        view_line = self.query_one(".panel-view", Static)
        if view is None:
            view_line.update("")
            return
        position = f"{self.view_index + 1}/{len(self.views)}"
        mode = "table" if self.show_table or view.chart is None else "chart"
        view_line.update(f"View {position}: {view.title} ({mode}; [ ] other views)")
        notes = self.query_one(".panel-notes", Static)
        report_notes = [str(note) for note in (self.data or {}).get("notes") or [] if note]
        notes.update(" ".join(report_notes))
        notes.display = bool(report_notes)
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "table" if mode == "table" else "chart"
        self._fill_table(view)
        if mode == "chart":
            charts.draw(self.query_one(PlotextPlot), view.chart, self.selected)
        self._show_caption()

    def _fill_table(self, view: View) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*[clean(column) for column in view.columns])
        for row in view.text_rows():
            table.add_row(*[Text(clean(cell)) for cell in row])
        if view.rows:
            table.move_cursor(row=min(self.selected, len(view.rows) - 1))

    def _show_caption(self) -> None:
        caption = self.query_one(".panel-caption", Static)
        view = self.view
        if view is None or not view.rows:
            caption.update("No records for these filters." if view is not None else "")
            return
        row = view.text_rows()[self.selected]
        pairs = ", ".join(
            f"{column}: {cell}" for column, cell in zip(view.columns[1:], row[1:], strict=True)
        )
        drill = "  Enter: the records behind it" if self._drill_params() is not None else ""
        caption.update(f"{charts.SELECTED_MARK}{row[0]}: {pairs}{drill}")

    def _drill_params(self) -> dict[str, str] | None:
        view = self.view
        if view is None or not view.rows or self.selected >= len(view.drill):
            return None
        return view.drill[self.selected]

    # -- actions --------------------------------------------------------------------------

    def action_toggle_table(self) -> None:
        self.show_table = not self.show_table
        self._redraw()

    def action_next_view(self) -> None:
        if self.views:
            self.view_index = (self.view_index + 1) % len(self.views)
            self.selected = 0
            self._redraw()

    def action_previous_view(self) -> None:
        if self.views:
            self.view_index = (self.view_index - 1) % len(self.views)
            self.selected = 0
            self._redraw()

    def action_select(self, step: int) -> None:
        view = self.view
        if view is None or not view.rows:
            return
        self.selected = (self.selected + step) % len(view.rows)
        self._redraw()

    def action_drill(self) -> None:
        params = self._drill_params()
        view = self.view
        if params is None or view is None:
            self.app.bell()
            return
        label = view.text_rows()[self.selected][0]
        self.post_message(self.DrillRequested(self, f"{view.title}: {label}", params))


def _range_words(data: dict[str, Any] | None) -> str:
    """The period the numbers cover, as the server resolved it (a preset's or the school
    year's first and last day)."""
    if not data:
        return ""
    first = data.get("period_from")
    last = data.get("period_to")
    if first and last:
        return f"{first} to {last} \N{MIDDLE DOT} "
    return ""
