"""What one server process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from district.clock import ServerClock
from district.notify import ChangeNotifier
from district.ratelimit import RateLimiter
from district.settings import Settings
from district.support import ExpirySweeper


@dataclass
class District:
    settings: Settings
    engine: Engine
    clock: ServerClock
    notifier: ChangeNotifier
    limiter: RateLimiter
    support_sweeper: ExpirySweeper = field(default_factory=ExpirySweeper)
