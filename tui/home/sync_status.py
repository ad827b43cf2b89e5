"""The sync state on home, from the table the daemon writes (DESIGN section 4).

One line of words (no state is shown by colour alone), and under it, only while a backlog
drains, a progress bar. The bar's module is imported on the first drain, not at start-up.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, tzinfo
from enum import Enum
from typing import TYPE_CHECKING

from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from schema.rows import SyncStatus
from tui.formatting import age_words, clock_text, day_and_clock
from tui.text import one_line

if TYPE_CHECKING:
    from textual.app import ComposeResult

ERROR_WIDTH = 60
_DAY = timedelta(days=1)

ENROLL_HINT = "classlog enroll URL CODE"
START_HINT = "classlog sync"


class DaemonState(Enum):
    """Whether "sync now" can reach a daemon, and what the sync line says about it."""

    NOT_ENROLLED = "not enrolled"
    NOT_RUNNING = "not running"
    STARTING = "starting"
    RUNNING = "running"


def process_exists(pid: int) -> bool:
    """True when a process with ``pid`` exists and this user may signal it."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def daemon_state(status: SyncStatus, pid: int | None) -> DaemonState:
    """A daemon runs when its recorded pid is alive; it has finished starting (its signal
    handlers are installed, so SIGUSR1 is safe to send) once it has reported online or offline.
    A daemon killed with -9 leaves its pid behind: the pid check catches that."""
    if not status.enrolled:
        return DaemonState.NOT_ENROLLED
    if pid is None or not process_exists(pid):
        return DaemonState.NOT_RUNNING
    if status.online is None:
        return DaemonState.STARTING
    return DaemonState.RUNNING


def _state_words(status: SyncStatus, daemon: DaemonState) -> str:
    if daemon is DaemonState.NOT_ENROLLED:
        return "not connected (this device is not enrolled)"
    if daemon is DaemonState.NOT_RUNNING:
        return f"daemon not running (start it: {START_HINT})"
    if daemon is DaemonState.STARTING:
        return "daemon starting"
    return "online" if status.online else "offline"


def sync_words(
    status: SyncStatus,
    now: datetime,
    zone: tzinfo,
    daemon: DaemonState = DaemonState.RUNNING,
) -> str:
    """What the sync line says: the daemon's state, what waits and since when, dead letters,
    the last error and its age, the last success."""
    if not status.enrolled:
        daemon = DaemonState.NOT_ENROLLED
    waiting = f"{status.pending_count} waiting to sync"
    if status.pending_count and status.oldest_pending_at is not None:
        waiting += f" (oldest {age_words(now - status.oldest_pending_at)})"
    parts = [f"Sync: {_state_words(status, daemon)}", waiting]
    if daemon is DaemonState.NOT_ENROLLED:
        return " \N{MIDDLE DOT} ".join(parts)
    if status.dead_letter_count:
        parts.append(f"{status.dead_letter_count} refused by the district (ctrl+l lists them)")
    if status.last_error:
        error = one_line(status.last_error)
        if len(error) > ERROR_WIDTH:
            error = error[: ERROR_WIDTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
        age = f" {age_words(now - status.last_error_at)} ago" if status.last_error_at else ""
        parts.append(f"last error{age}: {error}")
    if status.last_success_at is None:
        parts.append("never synced")
    else:
        when = status.last_success_at
        shown = clock_text(when, zone) if now - when < _DAY else day_and_clock(when, zone)
        parts.append(f"last synced {shown} ({age_words(now - when)} ago)")
    return " \N{MIDDLE DOT} ".join(parts)


def draining_progress(status: SyncStatus) -> tuple[int, int] | None:
    """(sent, total) while a backlog drains, None otherwise."""
    total = status.draining_total
    if total <= 0 or status.pending_count <= 0:
        return None
    total = max(total, status.pending_count)
    return total - status.pending_count, total


class SyncStatusLine(Static):
    """Shows :func:`sync_words`; the screen refreshes it every couple of seconds."""

    DEFAULT_CSS = """
    SyncStatusLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._shown = ""

    def show_status(
        self,
        status: SyncStatus,
        now: datetime,
        zone: tzinfo,
        daemon: DaemonState = DaemonState.RUNNING,
    ) -> None:
        words = sync_words(status, now, zone, daemon)
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


class DrainProgress(Horizontal):
    """Under the sync line while a large backlog drains: "Backlog: 120 of 5,000 sent" and a
    progress bar. Mounted on the first drain; hidden, not removed, afterwards."""

    DEFAULT_CSS = """
    DrainProgress {
        height: 1;
        padding: 0 1;
    }
    DrainProgress > #drain-words {
        width: auto;
        margin-right: 1;
    }
    """

    def __init__(self, sent: int, total: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = (sent, total)

    def compose(self) -> ComposeResult:
        from textual.widgets import ProgressBar

        yield Static(self._words(*self._shown), id="drain-words", markup=False)
        yield ProgressBar(total=self._shown[1], show_eta=False, id="drain-bar")

    def on_mount(self) -> None:
        self._show_bar()

    def show_progress(self, sent: int, total: int) -> None:
        if self._shown == (sent, total):
            return
        old_words = self._words(*self._shown)
        new_words = self._words(sent, total)
        self._shown = (sent, total)
        self.query_one("#drain-words", Static).update(
            new_words, layout=len(new_words) != len(old_words)
        )
        self._show_bar()

    def _show_bar(self) -> None:
        from textual.widgets import ProgressBar

        sent, total = self._shown
        self.query_one(ProgressBar).update(total=total, progress=sent)

    @staticmethod
    def _words(sent: int, total: int) -> str:
        return f"Backlog: {sent:,} of {total:,} sent"
