"""Per-token (or, before enrollment, per-address) rate limiting: a token bucket per key.

The buckets live in the process: with several server processes each enforces the limit on the
requests it serves, which bounds a device at (processes x limit). That is enough to keep one
misbehaving device from starving the others; a shared limit would need shared state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Take one request for ``key``: None when allowed, else whole seconds to wait."""
        now = self.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_KEYS:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information."""
        refill_seconds = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill_seconds]:
            del self._buckets[key]
