"""`classlog demo` as a new user meets it: server, enrollment, daemon and TUI, then a Level 2
logged with keystrokes reaches the district server, and quitting stops everything."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def server_incidents(database: Path) -> list[tuple[str, int]]:
    """(behavior, level) of each Level 2 incident the server exports for the official system."""
    command = ["district", "export", "--format", "jsonl", "--db", f"sqlite:///{database}"]
    done = subprocess.run(
        [sys.executable, "-m", "classlog", *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return [(record["behavior_code"], record["level"]) for record in records]


def test_demo_logs_a_level_2_that_reaches_the_server_and_quits_cleanly(
    tmux: Any, classlog_command: Any, tmp_path: Path
) -> None:
    keep = tmp_path / "demo"
    tmux.start(classlog_command.argv("demo", "--keep", str(keep)), {})
    tmux.wait_for("Sync: online", timeout=60)
    before = len(server_incidents(keep / "district.db"))

    tmux.send("Enter")
    tmux.wait_for("which behavior?")
    tmux.type("dress")
    for key in ("Enter", "Right", "r", "m", "Enter"):
        tmux.send(key)
    tmux.wait_for("Going a level higher than advised")
    tmux.type("demo: a Level 2 on purpose")
    tmux.send("Enter")
    tmux.wait_for("Saved")
    deadline = time.monotonic() + 10
    while len(server_incidents(keep / "district.db")) == before:
        assert time.monotonic() < deadline, "the Level 2 record never reached the server"
        time.sleep(0.1)
    dress = [record for record in server_incidents(keep / "district.db") if record[0] == "DRESS"]
    assert dress == [("DRESS", 2)]

    tmux.send("C-q")
    tmux.wait_for("EXIT=0", timeout=30)
