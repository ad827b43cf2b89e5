"""The administrator's dashboard against a real `classlog server` process with known data: the
numbers on screen are the API's, a filter change reloads, a bar drills down to its records and
to one record, and a server that stops mid-session leaves the last numbers on screen with their
time and the reason in words."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "district"))

from districtkit import District, running_district
from tuikit import screen_text

from tui.admin.app import AdminApp
from tui.admin.connection import admin_connection
from tui.admin.dashboard import DashboardScreen
from tui.admin.drill import RecordScreen, RecordsScreen
from tui.admin.filters import Period, period_dates
from tui.admin.panel import ReportPanel, when
from tui.admin.views import format_value

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    with running_district(tmp_path_factory.mktemp("district")) as running:
        yield running


async def settled(pilot: Pilot[object]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def dashboard(pilot: Pilot[object]) -> DashboardScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


def table_rows(panel: ReportPanel) -> list[list[str]]:
    table: DataTable[Text] = panel.query_one(DataTable)
    return [[cell.plain for cell in table.get_row_at(index)] for index in range(table.row_count)]


def api_rows(data: dict[str, object], section: str, columns: list[str]) -> list[list[str]]:
    rows = data["rows"]
    assert isinstance(rows, list)
    return [
        [format_value(row.get(column)) for column in columns]
        for row in rows
        if row.get("section") == section
    ]


async def show_view(pilot: Pilot[object], panel: ReportPanel, key: str) -> None:
    for _ in range(len(panel.views)):
        if panel.view is not None and panel.view.key == key:
            return
        await pilot.press("right_square_bracket")
    assert panel.view is not None
    assert panel.view.key == key


@pytest.fixture
def app(district: District, tmp_path: Path) -> AdminApp:
    return AdminApp(admin_connection(district.home), export_dir=tmp_path / "exports")


async def test_big5_on_screen_equals_the_api_and_counts_every_pushed_incident(
    district: District, app: AdminApp
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        panel = dashboard(pilot).panel("big5")
        api = district.api("/v1/summaries/big5")
        await show_view(pilot, panel, "behavior")
        await pilot.press("t")
        columns = ["label", "incidents", "office_referrals", "share"]
        assert panel.view is not None
        assert [column.replace(" ", "_") for column in panel.view.columns] == columns
        assert table_rows(panel) == api_rows(api, "behavior", columns)
        first = date_of(api["period_from"])
        last = date_of(api["period_to"])
        pushed = district.incidents_between(first, last)
        shown_total = sum(int(row[1]) for row in table_rows(panel))
        assert shown_total == len(pushed) > 0
        top = max(
            {fields["behavior_code"] for fields in pushed},
            key=lambda code: sum(f["behavior_code"] == code for f in pushed),
        )
        top_count = sum(fields["behavior_code"] == top for fields in pushed)
        assert f"{top_count}" in screen_text(app)


def date_of(value: object) -> date:
    return date.fromisoformat(str(value))


async def test_every_panel_shows_its_reports_numbers(district: District, app: AdminApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        screen = dashboard(pilot)
        for number, report in enumerate(
            ("big5", "levels", "tab", "follow-ups", "progression", "equity"), start=1
        ):
            await pilot.press(str(number))
            await settled(pilot)
            panel = screen.panel(report)
            assert panel.problem is None, panel.problem
            api = district.api(f"/v1/summaries/{report}")
            assert panel.data is not None
            assert panel.data["rows"] == api["rows"], report
            assert panel.view is not None
            await pilot.press("t")
            assert table_rows(panel) == panel.view.text_rows()
            await pilot.press("t")


async def test_a_suppressed_equity_cell_is_written_in_words(
    district: District, app: AdminApp
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        await pilot.press("6")
        await settled(pilot)
        panel = dashboard(pilot).panel("equity")
        api = district.api("/v1/summaries/equity")
        suppressed = [row for row in api["rows"] if row.get("suppressed")]
        assert suppressed, "the demo district has small groups"
        texts = [cell for view in panel.views for row in view.text_rows() for cell in row]
        assert "suppressed" in texts
        assert any(text.startswith("suppressed: ") for text in texts)


async def test_a_filter_change_reloads_the_panel_for_the_new_dates(
    district: District, app: AdminApp
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        select = pilot.app.screen.query_one("#filter-period", Select)
        await pilot.press("d")
        assert select.expanded
        options = [value for _label, value in select._options]
        steps = options.index(Period.LAST_MONTH.value) - options.index(Period.SCHOOL_YEAR.value)
        for _ in range(abs(steps)):
            await pilot.press("down" if steps > 0 else "up")
        await pilot.press("enter")
        await settled(pilot)
        assert app.filters.period is Period.LAST_MONTH
        first, last = period_dates(Period.LAST_MONTH, app.today())
        assert first is not None
        assert last is not None
        api = district.api("/v1/summaries/big5", **{"from": str(first), "to": str(last)})
        panel = dashboard(pilot).panel("big5")
        assert panel.data is not None
        assert panel.data["rows"] == api["rows"]
        assert f"{first} to {last}" in screen_text(app)


async def test_a_behavior_bar_drills_down_to_its_records_and_to_one_record(
    district: District, app: AdminApp
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        panel = dashboard(pilot).panel("big5")
        await show_view(pilot, panel, "behavior")
        await pilot.press("down")
        assert panel.view is not None
        code = panel.view.drill[1]
        assert code is not None
        behavior = code["behavior"]
        await pilot.press("enter")
        await settled(pilot)
        records_screen = app.screen
        assert isinstance(records_screen, RecordsScreen)
        listing = district.api("/v1/summaries/records", behavior=behavior)
        assert len(records_screen.records) == len(listing["rows"]) > 0
        assert {row["behavior_code"] for row in records_screen.records} == {behavior}
        assert f"{listing['total']} record" in screen_text(app)
        await pilot.press("enter")
        await settled(pilot)
        record_screen = app.screen
        assert isinstance(record_screen, RecordScreen)
        first = listing["rows"][0]
        text = screen_text(app)
        assert first["id"] in text
        assert f"behavior_code: {behavior}" in text
        assert f"student_id: {first['student_id']}" in text
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, DashboardScreen)


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[District]:
    """A district of its own, since the test stops its server."""
    with running_district(tmp_path / "short-lived", students=40, days=20) as running:
        yield running


async def test_a_server_stopped_mid_session_leaves_the_last_numbers_with_time_and_reason(
    short_lived: District,
) -> None:
    district = short_lived
    app = AdminApp(admin_connection(district.home))
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        panel = dashboard(pilot).panel("big5")
        before = panel.views[0].text_rows()
        fetched = panel.fetched_at
        assert fetched is not None
        district.server.__exit__(None, None, None)
        await pilot.press("r")
        await settled(pilot)
        text = screen_text(app)
        assert "Not updated: cannot reach the server" in text
        assert f"Showing data fetched {when(fetched, app.zone)}" in text
        assert panel.views[0].text_rows() == before
        await pilot.press("2")
        await settled(pilot)
        assert "Nothing to show: cannot reach the server" in screen_text(app)
    again = AdminApp(admin_connection(district.home))
    async with again.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        panel = dashboard(pilot).panel("big5")
        assert panel.views[0].text_rows() == before
        assert "Showing data fetched" in screen_text(again)


async def test_the_current_view_is_exported_as_csv(district: District, app: AdminApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        panel = dashboard(pilot).panel("big5")
        await show_view(pilot, panel, "location")
        await pilot.press("x")
        written = list(app.export_dir.glob("classlog-big5-location-*.csv"))
        assert len(written) == 1
        lines = written[0].read_text(encoding="utf-8").splitlines()
        assert panel.view is not None
        assert lines[0] == ",".join(panel.view.columns)
        assert len(lines) == 1 + len(panel.view.rows)
