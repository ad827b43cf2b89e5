"""The server's hybrid logical clock: the time authority devices correct themselves by.

One per process, shared by request threads. It observes every accepted op's timestamp, so the
``server_hlc`` a push answers is later than anything the device sent, and a correction is
stamped later than every value it replaces.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from schema.clock import HybridClock, Timestamp, WallClock, system_wall_ms


class ServerClock:
    def __init__(self, node: str, wall: WallClock = system_wall_ms) -> None:
        self._clock = HybridClock(node, wall=wall)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._clock.wall()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)

    def tick(self) -> Timestamp:
        with self._lock:
            return self._clock.tick()

    def after(self, *stamps: Timestamp) -> Timestamp:
        """A fresh timestamp later than all of ``stamps``."""
        with self._lock:
            for stamp in stamps:
                self._clock.receive(stamp)
            return self._clock.tick()
