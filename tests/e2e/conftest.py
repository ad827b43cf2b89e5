"""Drive real programs in a real terminal: tmux runs them, send-keys types, capture-pane reads."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


class Tmux:
    """One tmux session on a private server socket, 80x24 unless told otherwise."""

    def __init__(self, socket: Path, width: int = 80, height: int = 24) -> None:
        self.socket = socket
        self.session = f"classlog-{uuid.uuid4().hex[:8]}"
        self.width = width
        self.height = height

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        line = f"env {exports} {shlex.join(command)}; echo EXIT=$?; sleep 30"
        self._tmux(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            line,
        )

    def send(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", self.session, key)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session).stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen:\n{screen}")

    def wait_for_any(self, texts: tuple[str, ...], timeout: float = 20.0) -> str:
        """The screen once any of ``texts`` is on it."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if any(text in screen for text in texts):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"none of {texts!r} ever appeared on screen:\n{screen}")

    def wait_until_gone(self, text: str, timeout: float = 20.0) -> str:
        """The screen once ``text`` has left it."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text not in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} stayed on screen:\n{screen}")

    def kill(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"],
            capture_output=True,
            check=False,
            timeout=30,
        )


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing: .ci/run installs it")
        pytest.skip("tmux is not installed")
    terminal = Tmux(tmp_path / "tmux.sock")
    yield terminal
    terminal.kill()


@pytest.fixture
def classlog_command() -> type[ClasslogCommand]:
    return ClasslogCommand


class ClasslogCommand:
    """The argv that runs this checkout's `classlog`."""

    @staticmethod
    def argv(*args: str) -> list[str]:
        return [sys.executable, "-m", "classlog", *args]
