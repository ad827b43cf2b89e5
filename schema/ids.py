"""Record ids: UUIDv7, minted on the device, time-ordered."""

from __future__ import annotations

import uuid6


def new_id() -> str:
    return str(uuid6.uuid7())
