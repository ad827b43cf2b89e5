"""Cheap, frequent reads of the support requests on this device.

``RequestPoll.requests()`` runs ``list_requests`` only when ``PRAGMA data_version`` says another
connection (the sync daemon, the command line) has written since the last read, or when this
app wrote (``invalidate``). A poll that finds nothing new costs one pragma.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schema.store import DeviceStore
    from schema.support import SupportRequest


ACTIVE_STATES = frozenset({"open", "accepted"})


class RequestPoll:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._version: int | None = None
        self._requests: list[SupportRequest] = []
        self.generation = 0
        """Counts the re-reads: a screen showing other data from the database (records pulled
        by the daemon) refreshes it when this moves."""

    def invalidate(self) -> None:
        self._version = None

    def changed(self) -> bool:
        """Whether the database may hold something this poll has not read yet."""
        version: int = self.connection.execute("PRAGMA data_version").fetchone()[0]
        if version == self._version:
            return False
        self._version = version
        return True

    def requests(self, store: DeviceStore) -> list[SupportRequest]:
        """Every request this device holds (open first, oldest first), re-read only when the
        database changed."""
        if self.changed():
            from schema.support import list_requests

            self._requests = list_requests(store)
            self.generation += 1
        return self._requests


def own_request(requests: list[SupportRequest], device_id: str | None) -> SupportRequest | None:
    """The request the teacher's line is about: this device's latest still active, or else its
    latest of all (so "resolved" or "cancelled" stays in view until the next call)."""
    mine = [request for request in requests if request.device_id == device_id]
    if not mine:
        return None
    active = [request for request in mine if request.state in ACTIVE_STATES]
    pool = active or mine
    return max(pool, key=lambda request: request.created_at)
