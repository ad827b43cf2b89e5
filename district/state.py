"""What one server process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from district.clock import ServerClock
from district.notify import ChangeNotifier
from district.ratelimit import RateLimiter
from district.settings import Settings


@dataclass
class District:
    settings: Settings
    engine: Engine
    clock: ServerClock
    notifier: ChangeNotifier
    limiter: RateLimiter
