"""The mobile responder's app-level watcher: a new call rings the bell and shows a banner on
whatever screen is open.

The app polls every ``WATCH_SECONDS``; a poll that finds the database unchanged costs one
``PRAGMA data_version``. A call rings once: the first time this device sees it open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schema.errors import UserError

if TYPE_CHECKING:
    from schema.support import SupportRequest
    from tui.app import ClasslogApp

WATCH_SECONDS = 0.2


class RequestWatcher:
    """Which calls this screen has already rung for."""

    def __init__(self, device_id: str | None) -> None:
        self.device_id = device_id
        self.rung: set[str] = set()

    def new_calls(self, requests: list[SupportRequest]) -> list[SupportRequest]:
        """Open calls from other devices not rung for yet, oldest first; each is rung once."""
        fresh = [
            request
            for request in requests
            if request.state == "open"
            and request.id not in self.rung
            and request.device_id != self.device_id
        ]
        self.rung.update(request.id for request in fresh)
        return fresh


def accept(classlog: ClasslogApp, request_id: str) -> None:
    """Ask to take the call ("on my way"); the screen says "accepting…" until the server answers.
    A refusal (no longer open, unknown) is said in one line."""
    from schema.support import accept_request

    try:
        accept_request(classlog.store, request_id)
    except UserError as error:
        classlog.report_error(error)
    classlog.support_poll.invalidate()
