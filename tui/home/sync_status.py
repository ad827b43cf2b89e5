"""One line of sync state, from the table the daemon writes (DESIGN section 4)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from textual.content import Content
from textual.widgets import Static

from schema.store import SyncStatus
from tui.formatting import age_words, clock_text, day_and_clock
from tui.text import one_line

ERROR_WIDTH = 60
_DAY = timedelta(days=1)


def sync_words(status: SyncStatus, now: datetime, zone: tzinfo) -> str:
    """What the sync line says, in words (no state is shown by colour alone)."""
    waiting = f"{status.pending_count} waiting to sync"
    if status.pending_count and status.oldest_pending_at is not None:
        waiting += f" (oldest {age_words(now - status.oldest_pending_at)})"
    if not status.enrolled:
        return f"Sync: not connected (this device is not enrolled) \N{MIDDLE DOT} {waiting}"
    state = {True: "online", False: "offline", None: "daemon not reporting"}[status.online]
    parts = [f"Sync: {state}", waiting]
    if status.last_success_at is None:
        parts.append("never synced")
    else:
        when = status.last_success_at
        shown = clock_text(when, zone) if now - when < _DAY else day_and_clock(when, zone)
        parts.append(f"last synced {shown} ({age_words(now - when)} ago)")
    if status.last_error:
        error = one_line(status.last_error)
        if len(error) > ERROR_WIDTH:
            error = error[: ERROR_WIDTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
        parts.append(f"last error: {error}")
    if status.dead_letter_count:
        parts.append(f"{status.dead_letter_count} refused by the server (dead letters)")
    return " \N{MIDDLE DOT} ".join(parts)


class SyncStatusLine(Static):
    """Shows :func:`sync_words`; the screen refreshes it every couple of seconds."""

    DEFAULT_CSS = """
    SyncStatusLine {
        height: auto;
        max-height: 2;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._shown = ""

    def show_status(self, status: SyncStatus, now: datetime, zone: tzinfo) -> None:
        words = sync_words(status, now, zone)
        if words == self._shown:
            return
        content = Content(words)
        height = self._height(content)
        same_height = height is not None and height == self._height(Content(self._shown))
        self._shown = words
        self.update(content, layout=not same_height)

    def _height(self, content: Content) -> int | None:
        """Lines ``content`` takes here (None before the first layout): the screen is laid out
        again only when that changes (the ages in the line change every poll, its height
        rarely)."""
        width = self.content_region.width
        return len(content.wrap(width)) if width else None
