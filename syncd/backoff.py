"""Full-jitter exponential backoff (1 s to 5 min) that honours a server's ``Retry-After``.

Full jitter (a uniform delay between zero and the exponential cap) spreads many devices coming
back online at once, which is what happens when a school's Wi-Fi returns.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 300.0


class Backoff:
    """The delay before the next attempt after ``failures`` consecutive failures."""

    def __init__(
        self,
        base: float = BASE_DELAY_SECONDS,
        cap: float = MAX_DELAY_SECONDS,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.base = base
        self.cap = cap
        self.uniform = uniform
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        """Count one more failure and return how long to wait. A ``Retry-After`` is a floor:
        the server asked for at least that long (capped at the maximum)."""
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 30))
        self.failures += 1
        delay = max(self.base, self.uniform(0.0, ceiling))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap))
        return min(delay, self.cap)
