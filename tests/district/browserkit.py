"""Headless Chromium for the HTML report's tests, driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: no port, no extra package). It records every request the page
makes, so a test can assert there was none beyond the file itself."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--remote-debugging-pipe",
)
TIMEOUT_S = 60.0


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One Chromium process and one page attached to it (flattened session)."""

    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int):
        self.process = process
        self._out = os.fdopen(to_browser, "wb", buffering=0)
        self._in = os.fdopen(from_browser, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = self._in.read(65536)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        decoded: dict[str, Any] = json.loads(message)
        return decoded

    def send(self, method: str, params: dict[str, Any] | None = None, *, page: bool = True) -> Any:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self.session is not None:
            command["sessionId"] = self.session
        self._out.write(json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = self._read_message()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)
        raise TimeoutError(method)

    def wait_for_event(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = self._read_message()
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )
        self.session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Network.enable")
        self.send("Runtime.enable")

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for_event("Page.loadEventFired")

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for since the last navigation (the document included)."""
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def screenshot(self, target: Path) -> Path:
        result = self.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        target.write_bytes(base64.b64decode(result["data"]))
        return target

    def print_pdf(self, target: Path, *, width_in: float, height_in: float) -> Path:
        result = self.send(
            "Page.printToPDF",
            {"paperWidth": width_in, "paperHeight": height_in, "printBackground": True},
        )
        target.write_bytes(base64.b64decode(result["data"]))
        return target

    def close(self) -> None:
        with suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", page=False)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._in.close()


@contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    """A fresh headless Chromium with its own profile directory."""
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("Chromium is not installed (.ci/run installs Debian's chromium)")
    browser_in, to_browser = os.pipe()
    from_browser, browser_out = os.pipe()

    def on_fds_3_and_4() -> None:
        reading = os.dup(browser_in)
        writing = os.dup(browser_out)
        os.dup2(reading, 3)
        os.dup2(writing, 4)

    process = subprocess.Popen(
        [executable, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=False,
        preexec_fn=on_fds_3_and_4,
    )
    os.close(browser_in)
    os.close(browser_out)
    browser = Browser(process, to_browser, from_browser)
    try:
        browser.open_page()
        yield browser
    finally:
        browser.close()
