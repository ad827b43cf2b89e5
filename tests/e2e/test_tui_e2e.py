"""The real `classlog` in a real terminal: a teacher logs with keystrokes, the database has it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from schema.models import Action
from schema.store import DeviceStore

pytestmark = pytest.mark.e2e


def test_teacher_logs_level_1_with_six_keys_and_starts_a_take_a_break(
    tmux: Any, classlog_command: Any, device_home: Path
) -> None:
    env = {"CLASSLOG_HOME": str(device_home), "TZ": "UTC", "TERM": "xterm-256color"}
    earlier = subprocess.run(
        classlog_command.argv(
            "log", "add", "--student", "s-4", "--behavior", "DIS-CLASS", "--level", "1"
        ),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert earlier.stdout.startswith("saved")
    tmux.start(classlog_command.argv(), env)
    screen = tmux.wait_for("Find:")
    assert "[@click=app.quit]x[/]" in screen

    for key in ("l", "o", "Enter", "1", "r", "Enter"):
        tmux.send(key)
    tmux.wait_for("Saved")
    tmux.send("2")
    tmux.send("Enter")
    tmux.wait_for("Take a Break started")

    store = DeviceStore.open(device_home)
    try:
        logged = [i for i in store.todays_incidents() if i.student_id == "s-1"]
        assert len(logged) == 1
        assert logged[0].level == 1
        assert logged[0].behavior_code == "DIS-CLASS"
        assert logged[0].actions == [Action.REDIRECT]
        (running,) = store.running_tabs()
        assert running.student_id == "s-1"
        assert store.sync_status().pending_count == 1
    finally:
        store.close()
    tmux.send("C-q")


def test_a_second_screen_on_the_same_device_is_refused_and_quitting_asks_about_a_break(
    tmux: Any, classlog_command: Any, device_home: Path, tmp_path: Path
) -> None:
    env = {"CLASSLOG_HOME": str(device_home), "TZ": "UTC", "TERM": "xterm-256color"}
    tmux.start(classlog_command.argv(), env)
    tmux.wait_for("Find:")
    second = type(tmux)(tmp_path / "second.sock")
    try:
        second.start(classlog_command.argv(), env)
        screen = second.wait_for("EXIT=2")
        assert "classlog is already open on this device's data in another window" in screen
    finally:
        second.kill()
    for key in ("l", "o", "2", "Enter"):
        tmux.send(key)
    tmux.wait_for("Take a Break started")
    tmux.send("C-q")
    tmux.wait_for("Quit classlog?")
    assert "1 Take a Break still running" in tmux.screen()
    tmux.send("y")
    tmux.wait_for("EXIT=0")
