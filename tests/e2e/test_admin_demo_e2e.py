"""`classlog demo --admin` as an administrator meets it: a demo district with months of history
behind a real server, the dashboard open on it with numbers in every panel, and quitting stops
everything."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def counted(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT count(*) FROM incidents WHERE tombstone = 0").fetchone()
    return int(row[0])


def referrals(database: Path) -> tuple[int, int]:
    """Office referrals in the demo district, and how many carry the office's decision."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT count(*), count(decided_level) FROM office_referrals WHERE tombstone = 0"
        ).fetchone()
    return int(row[0]), int(row[1])


def test_the_admin_demo_opens_the_dashboard_on_a_district_with_history(
    tmux: Any, classlog_command: Any, tmp_path: Path
) -> None:
    keep = tmp_path / "demo"
    tmux.start(classlog_command.argv("demo", "--admin", "--keep", str(keep)), {})
    screen = tmux.wait_for("Big 5: 20", timeout=180)
    assert "scope: the district" in screen
    assert "View 1/" in screen
    assert counted(keep / "district.db") > 500
    sent, decided = referrals(keep / "district.db")
    assert sent > decided > 0
    for panel, title in (("3", "Take a Break"), ("4", "Follow-ups"), ("6", "Equity")):
        tmux.send(panel)
        screen = tmux.wait_for(f"{title}: 20", timeout=60)
        assert "Nothing to show" not in screen, title
    tmux.send("1")
    tmux.wait_for("Big 5: 20", timeout=60)
    tmux.send("]")
    tmux.wait_for("By behavior", timeout=60)
    tmux.send("Enter")
    tmux.wait_for("Enter opens one", timeout=60)
    tmux.send("Escape")
    tmux.wait_for("Big 5: 20", timeout=60)
    tmux.send("q")
    tmux.wait_for("EXIT=0", timeout=30)
