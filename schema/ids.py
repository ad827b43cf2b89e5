"""Record ids: UUIDv7, minted on the device, time-ordered."""

from __future__ import annotations


def new_id() -> str:
    """A new UUIDv7. ``uuid6`` is imported on first use: it reads package metadata on import,
    which the teacher's screen should not wait for."""
    import uuid6

    return str(uuid6.uuid7())
