"""Hybrid logical clock (HLC).

A timestamp is (wall milliseconds, counter, node id). It never goes backwards on one node, stays
close to physical time, and orders events across nodes: ties on wall and counter are broken by node
id. Encoded as a fixed-width string so that string order is timestamp order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from schema.errors import ClasslogError

WALL_DIGITS = 13
COUNTER_DIGITS = 6
MAX_COUNTER = 10**COUNTER_DIGITS - 1
_ENCODED = re.compile(rf"([0-9]{{{WALL_DIGITS}}})-([0-9]{{{COUNTER_DIGITS}}})-(.+)", re.DOTALL)

WallClock = Callable[[], int]
"""Returns physical time in milliseconds since the Unix epoch."""


def system_wall_ms() -> int:
    return time.time_ns() // 1_000_000


class ClockError(ClasslogError, ValueError):
    """An HLC string could not be read, or a clock would overflow."""


@dataclass(frozen=True, order=True, slots=True)
class Timestamp:
    wall_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        return f"{self.wall_ms:0{WALL_DIGITS}d}-{self.counter:0{COUNTER_DIGITS}d}-{self.node}"

    @classmethod
    def decode(cls, text: str) -> Timestamp:
        match = _ENCODED.fullmatch(text)
        if match is None:
            raise ClockError(f"not a hybrid logical clock value: {text!r}")
        return cls(int(match[1]), int(match[2]), match[3])

    def __str__(self) -> str:
        return self.encode()


ZERO = Timestamp(0, 0, "")


def next_after(last: Timestamp, physical_ms: int, node: str) -> Timestamp:
    """The timestamp for a local event, given the last one this node issued or observed."""
    if physical_ms > last.wall_ms:
        return Timestamp(physical_ms, 0, node)
    if last.counter >= MAX_COUNTER:
        return Timestamp(last.wall_ms + 1, 0, node)
    return Timestamp(last.wall_ms, last.counter + 1, node)


def observe(last: Timestamp, remote: Timestamp, physical_ms: int, node: str) -> Timestamp:
    """The timestamp after receiving ``remote``: later than both ``last`` and ``remote``."""
    wall = max(last.wall_ms, remote.wall_ms, physical_ms)
    if wall == last.wall_ms == remote.wall_ms:
        counter = max(last.counter, remote.counter) + 1
    elif wall == last.wall_ms:
        counter = last.counter + 1
    elif wall == remote.wall_ms:
        counter = remote.counter + 1
    else:
        counter = 0
    if counter > MAX_COUNTER:
        return Timestamp(wall + 1, 0, node)
    return Timestamp(wall, counter, node)


class HybridClock:
    """A node's clock: physical time corrected by ``offset_ms`` (the server's time minus ours)."""

    def __init__(
        self,
        node: str,
        last: Timestamp = ZERO,
        wall: WallClock = system_wall_ms,
        offset_ms: int = 0,
    ) -> None:
        self.node = node
        self.last = last
        self.wall = wall
        self.offset_ms = offset_ms

    def physical_ms(self) -> int:
        return self.wall() + self.offset_ms

    def tick(self) -> Timestamp:
        self.last = next_after(self.last, self.physical_ms(), self.node)
        return self.last

    def receive(self, remote: Timestamp) -> Timestamp:
        self.last = observe(self.last, remote, self.physical_ms(), self.node)
        return self.last
