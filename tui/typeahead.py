"""Type-ahead: keys typed faster than the screens change still land where they were meant to.

Textual forwards each key to the focused widget as soon as the app reads it, so in a burst like
``m a Enter 1 r Enter`` the keys after the first Enter would reach the student list before the
behavior screen exists. The app therefore hands keys on one at a time: the next key is released
only once every message queue of the app and its screens is drained (the previous key fully
handled, a screen it opened mounted). A key typed into a settled app goes straight through; keys
that arrive while one is still being handled wait, and are replayed in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from textual import events
from textual.message_pump import MessagePump
from textual.worker import WorkerState

if TYPE_CHECKING:
    from textual.app import App

SETTLE_LIMIT_SECONDS = 0.5
"""A key is never held longer than this behind a busy app (a slow handler, a long worker)."""


def _pumps(app: App[Any]) -> Iterator[MessagePump]:
    """The app, its screens and their widgets. Textual keeps every mounted node (screens
    included) in the app's registry: reading it costs a quarter of walking each screen's tree,
    and the settle loop asks several times a key."""
    yield app
    registry = getattr(app, "_registry", None)
    if registry is not None:
        yield from registry
        return
    for screen in app.screen_stack:
        yield screen
        yield from screen.walk_children(with_self=False)


def _pump_idle(pump: MessagePump) -> bool:
    """Nothing queued. (A message being handled has already left its queue: the settle loop
    asks for two quiet rounds in a row to see past one.)"""
    return pump._message_queue.empty()


def app_settled(app: App[Any]) -> bool:
    """Every message queue drained and no worker still waiting to start."""
    if any(worker.state is WorkerState.PENDING for worker in app.workers):
        return False
    return all(_pump_idle(pump) for pump in _pumps(app))


class KeySequencer:
    """Holds keys read from the terminal and releases them one at a time, in order."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.waiting: deque[events.Key] = deque()
        self._task: asyncio.Task[None] | None = None
        self._replaying: events.Key | None = None

    def take(self, event: events.Event) -> bool:
        """Hold a key straight from the terminal if the app is still busy with an earlier one
        (True); False when the event is to be handled now, as usual."""
        if not isinstance(event, events.Key) or event.is_forwarded:
            return False
        if event is self._replaying:
            return False
        idle = self._task is None or self._task.done()
        if idle and app_settled(self.app):
            self._task = asyncio.create_task(self._release(after_key=True))
            return False
        self.waiting.append(event)
        if idle:
            self._task = asyncio.create_task(self._release())
        return True

    async def _release(self, *, after_key: bool = False) -> None:
        """Replay the held keys one at a time, each once the app has settled (``after_key``:
        first wait for the key that went straight through)."""
        if after_key:
            await self._settle()
        while self.waiting:
            key = self.waiting.popleft()
            replay = events.Key(key.key, key.character)
            replay.set_sender(self.app)
            self._replaying = replay
            self.app.post_message(replay)
            await self._settle()
        self._replaying = None

    async def _settle(self) -> None:
        deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
        quiet_rounds = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0)
            quiet_rounds = quiet_rounds + 1 if app_settled(self.app) else 0
            if quiet_rounds >= 2:
                return
