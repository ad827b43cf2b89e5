"""The long-running daemon: wake on a local commit (or every 30 s), push, then pull.

While online and idle it long-polls the server so support requests arrive within seconds; a
local commit cuts the long-poll short and is pushed at once. Failures back off with full jitter
(1 s to 5 min, at least the server's ``Retry-After``). SIGTERM and SIGINT stop it cleanly (the
database thread finishes its transaction first); SIGUSR1 is "sync now": it ends a backoff wait.
Everything a person needs to see goes to ``sync_state`` for the TUI.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from schema.sync_store import SyncStore
from syncd.backoff import Backoff
from syncd.client import SyncError
from syncd.engine import RetryPendingError, SyncEngine
from syncd.watch import watch_commits

POLL_INTERVAL_SECONDS = 30.0
LONG_POLL_SECONDS = 25.0

log = logging.getLogger("classlog.syncd")


@dataclass(slots=True)
class DaemonStats:
    rounds: int = 0
    failures: int = 0
    pushes: int = 0


class Daemon:
    """Schedules sync rounds for one device until ``stop`` is set."""

    def __init__(
        self,
        engine: SyncEngine,
        *,
        watch: bool = True,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        long_poll: float = LONG_POLL_SECONDS,
        backoff: Backoff | None = None,
    ) -> None:
        self.engine = engine
        self.watch = watch
        self.poll_interval = poll_interval
        self.long_poll = min(long_poll, poll_interval)
        self.backoff = backoff or Backoff()
        self.changed = asyncio.Event()
        self.wake = asyncio.Event()
        self.stop = asyncio.Event()
        self.stats = DaemonStats()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        loop.add_signal_handler(signal.SIGINT, self.stop.set)
        loop.add_signal_handler(signal.SIGUSR1, self.wake.set)

    async def run(self) -> None:
        store = self.engine.store
        await self.engine.db(store.record_daemon, os.getpid())
        watcher: asyncio.Task[None] | None = None
        if self.watch:
            database = _database_path(store)
            watcher = asyncio.create_task(
                watch_commits(
                    database,
                    lambda: self.engine.db(store.data_version),
                    self.changed,
                    self.stop,
                )
            )
        try:
            while not self.stop.is_set():
                delay = await self._round()
                if delay is not None:
                    await self._sleep(delay)
        finally:
            self.stop.set()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher
            await self.engine.db(store.record_daemon, None)

    async def _round(self) -> float | None:
        """Push then pull. Returns how long to back off, or None to go straight on. Ops the
        server asked to retry later do not hold back the pull: support requests still arrive."""
        store = self.engine.store
        self.stats.rounds += 1
        self.changed.clear()
        await self.engine.db(store.record_attempt)
        retry_later: RetryPendingError | None = None
        try:
            pending = await self.engine.db(store.pending_count)
            if pending:
                self.stats.pushes += 1
                try:
                    await self.engine.push()
                except RetryPendingError as error:
                    retry_later = error
            interrupt = _any_event(self.changed, self.stop, self.wake)
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                report = await self.engine.pull(wait=self.long_poll, interrupt=interrupt.event)
                quiet = not report.interrupted and report.applied + report.removed == 0
                if quiet and loop.time() - started < 1.0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(interrupt.event.wait(), self.poll_interval)
            finally:
                interrupt.close()
            if retry_later is not None:
                raise retry_later
        except sqlite3.OperationalError as error:
            self.stats.failures += 1
            message = f"local database error: {error}"
            log.warning("sync: %s", message)
            with contextlib.suppress(sqlite3.Error):
                await self.engine.db(functools.partial(store.record_error, online=False), message)
            return self.backoff.next_delay()
        except SyncError as error:
            self.stats.failures += 1
            await self.engine.db(
                functools.partial(store.record_error, online=error.online), error.message
            )
            log.warning("sync: %s", error.message)
            return self.backoff.next_delay(error.retry_after)
        await self.engine.db(store.record_success)
        self.backoff.reset()
        return None

    async def _sleep(self, seconds: float) -> None:
        """Wait out a backoff; stop and "sync now" end it early, and so does a support request
        written meanwhile: a call for help is tried at once, not minutes later."""
        self.wake.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not (self.stop.is_set() or self.wake.is_set()):
            if self.changed.is_set():
                self.changed.clear()
                if await self.engine.db(self.engine.store.urgent_pending):
                    return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            interrupt = _any_event(self.stop, self.wake, self.changed)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(interrupt.event.wait(), timeout=remaining)
            finally:
                interrupt.close()


class _AnyEvent:
    """An event set as soon as any of several events is set."""

    def __init__(self, events: tuple[asyncio.Event, ...]) -> None:
        self.event = asyncio.Event()
        self._tasks = [asyncio.create_task(self._forward(event)) for event in events]

    async def _forward(self, source: asyncio.Event) -> None:
        await source.wait()
        self.event.set()

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


def _any_event(*events: asyncio.Event) -> _AnyEvent:
    return _AnyEvent(events)


def _database_path(store: SyncStore) -> Path:
    row = store.connection.execute("PRAGMA database_list").fetchone()
    return Path(row[2])
