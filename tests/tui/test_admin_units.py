"""The dashboard's pieces without a screen: views from a report's JSON, date presets, the
offline cache, CSV cells."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

from tui.admin.cache import ReportCache
from tui.admin.dashboard import csv_cell
from tui.admin.filters import Filters, Period, period_dates
from tui.admin.views import report_views

BIG5 = {
    "report": "big5",
    "columns": [
        "section", "key", "label", "incidents", "school_days", "per_school_day", "students",
        "share",
    ],
    "rows": [
        {"section": "total", "key": "all", "label": "All", "incidents": 5, "school_days": 20,
         "per_school_day": 0.25, "students": 40},
        {"section": "behavior", "key": "DIS-CLASS", "label": "Disruption", "incidents": 3,
         "share": 0.6},
        {"section": "behavior", "key": "DEFIANCE", "label": "Defiance", "incidents": 2,
         "share": 0.4},
        {"section": "hour", "key": "09", "label": "09:00-09:59", "incidents": 5, "share": 1.0},
        {"section": "month", "key": "2026-11", "label": "November 2026", "incidents": 5,
         "school_days": 20, "per_school_day": 0.25},
    ],
    "notes": ["Office referrals are not recorded yet."],
}  # fmt: skip
EQUITY_ROW = {
    "section": "equity", "outcome": "any_level2", "dimension": "sex", "group": "female",
    "label": "Female", "enrolled": 120, "with_outcome": 30, "risk": 0.25, "risk_ratio": 1.5,
    "composition_outcome": 0.6, "composition_enrolled": 0.5, "suppressed": False,
    "reason": None,
}  # fmt: skip
SUPPRESSED_ROW = {
    **EQUITY_ROW, "group": "x", "label": "X", "enrolled": None, "with_outcome": None,
    "risk": None, "risk_ratio": None, "composition_outcome": None, "composition_enrolled": None,
    "suppressed": True, "reason": "fewer than 10 students with the outcome",
}  # fmt: skip


def test_each_section_is_a_view_whose_chart_plots_a_column_of_its_own_table() -> None:
    views = {view.key: view for view in report_views("big5", BIG5)}
    assert list(views) == ["behavior", "hour", "month", "total"]
    behavior = views["behavior"]
    assert behavior.columns[0] == "label"
    assert behavior.text_rows() == [["Disruption", "3", "0.60"], ["Defiance", "2", "0.40"]]
    chart = behavior.chart
    assert chart is not None
    assert chart.labels == ["Disruption", "Defiance"]
    assert chart.values == [3.0, 2.0]
    assert chart.horizontal
    month = views["month"]
    assert month.chart is not None
    assert month.chart.values == [0.25]
    assert month.columns[month.chart_column or 0] == "per school day"
    assert not month.chart.horizontal


def test_a_behavior_bar_drills_to_that_behavior_and_a_month_to_nothing() -> None:
    views = {view.key: view for view in report_views("big5", BIG5)}
    assert views["behavior"].drill == [{"behavior": "DIS-CLASS"}, {"behavior": "DEFIANCE"}]
    assert views["hour"].drill == [{"hour": "09"}]
    assert views["month"].drill == [None]


def test_one_row_totals_come_after_the_breakdowns() -> None:
    keys = [view.key for view in report_views("big5", BIG5)]
    assert keys[-1] == "total"
    assert keys[0] == "behavior"


def test_a_suppressed_equity_cell_is_words_in_every_number_cell_never_a_number() -> None:
    data = {"report": "equity", "rows": [EQUITY_ROW, SUPPRESSED_ROW]}
    (view,) = report_views("equity", data)
    assert view.title == "Any Level 2 by sex"
    shown, hidden = view.text_rows()
    assert shown[:4] == ["Female", "120", "30", "0.25"]
    assert shown[4] == "1.50 (n=30)"
    assert hidden[0] == "X"
    assert hidden[1:7] == ["suppressed"] * 6
    assert hidden[7] == "suppressed: fewer than 10 students with the outcome"
    chart = view.chart
    assert chart is not None
    assert chart.values == [0.25, None]


def test_presets_cover_this_month_last_month_and_leave_the_school_year_to_the_server() -> None:
    today = date(2026, 3, 15)
    assert period_dates(Period.THIS_MONTH, today) == (date(2026, 3, 1), today)
    assert period_dates(Period.LAST_MONTH, today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_dates(Period.LAST_MONTH, date(2026, 1, 5)) == (
        date(2025, 12, 1),
        date(2025, 12, 31),
    )
    assert period_dates(Period.SCHOOL_YEAR, today) == (None, None)
    filters = Filters(school="school-1", period=Period.LAST_MONTH, grade="07", level=2)
    assert filters.query(today) == {
        "school": "school-1",
        "from": "2026-02-01",
        "to": "2026-02-28",
        "grade": "07",
        "level": "2",
    }
    assert Filters().query(today) == {}


def test_the_cache_survives_a_restart_and_only_its_owner_can_read_it(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    ReportCache(tmp_path).put("big5?", BIG5, moment)
    again = ReportCache(tmp_path).get("big5?")
    assert again == (BIG5, moment)
    mode = stat.S_IMODE((tmp_path / "admin-cache.json").stat().st_mode)
    assert mode == 0o600
    assert ReportCache(tmp_path).get("other") is None


def test_a_broken_cache_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "admin-cache.json").write_text("{not json", encoding="utf-8")
    assert ReportCache(tmp_path).get("big5?") is None


def test_csv_cells_that_a_spreadsheet_would_run_are_disarmed() -> None:
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-3") == "-3"
    assert csv_cell("Disruption") == "Disruption"


async def test_the_dashboard_turns_the_start_up_gc_pause_off(tmp_path: Path) -> None:
    """`classlog` pauses the collector while a TUI starts; the dashboard must end that pause."""
    import gc
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from admin_samples import NOW, transport

    from tui.admin.app import AdminApp
    from tui.admin.connection import AdminConnection

    connection = AdminConnection("http://district.test", "t", "district", "UTC", tmp_path)
    app = AdminApp(connection, clock=lambda: NOW, transport=transport())
    gc.disable()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
    finally:
        gc.enable()
