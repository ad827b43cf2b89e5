"""Wakes long-polling pulls in this process as soon as a write here commits, or a device is
revoked or re-enrolled here. Writes by other processes are found by the pull's slower database
poll."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class ChangeNotifier:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._lock = threading.Lock()
        self.waiting = 0
        """Long-polls parked in ``wait`` right now (for tests and health)."""

    def current(self) -> asyncio.Event:
        """The event the next commit will set; take it before reading, then wait on it."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is not loop or self._event is None:
                self._loop = loop
                self._event = asyncio.Event()
            return self._event

    def notify(self) -> None:
        """Called from any thread after a commit."""
        with self._lock:
            loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        with self._lock:
            event = self._event
            self._event = asyncio.Event()
        if event is not None:
            event.set()

    async def wait(self, event: asyncio.Event, seconds: float) -> None:
        """Return when ``event`` is set or after ``seconds``, whichever comes first."""
        self.waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            self.waiting -= 1
