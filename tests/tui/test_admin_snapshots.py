"""Reviewed SVG snapshots of the dashboard's main panels at 80x24, on fixed report JSON and a
fixed clock (pytest-textual-snapshot). Regenerate with ``--snapshot-update`` only after looking
at the new SVGs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).parent))

from admin_samples import NOW, transport

from tui.admin.app import AdminApp
from tui.admin.connection import AdminConnection

SnapCompare = Callable[..., bool]


async def settled(pilot: Pilot[object]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def admin_app(home: Path) -> AdminApp:
    connection = AdminConnection(
        server_url="http://district.test",
        token="not-a-real-token",
        school_id="district",
        timezone="America/Chicago",
        home=home,
    )
    return AdminApp(connection, clock=lambda: NOW, transport=transport())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "admin-home"


def test_big5_behavior_chart(home: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(
        admin_app(home),
        press=["right_square_bracket", "down"],
        terminal_size=(80, 24),
        run_before=settled,
    )


def test_big5_month_chart(home: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(admin_app(home), terminal_size=(80, 24), run_before=settled)


def test_big5_behavior_table(home: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(
        admin_app(home),
        press=["right_square_bracket", "t"],
        terminal_size=(80, 24),
        run_before=settled,
    )


def test_equity_table_with_a_suppressed_group(home: Path, snap_compare: SnapCompare) -> None:
    async def equity(pilot: Pilot[object]) -> None:
        await settled(pilot)
        await pilot.press("6")
        await settled(pilot)
        await pilot.press("t")

    assert snap_compare(admin_app(home), terminal_size=(80, 24), run_before=equity)


def test_no_color(home: Path, snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(
        admin_app(home),
        press=["right_square_bracket"],
        terminal_size=(80, 24),
        run_before=settled,
    )


def test_help(home: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(admin_app(home), press=["f1"], terminal_size=(80, 24), run_before=settled)
