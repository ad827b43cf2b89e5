"""Waking long-polls across server processes on PostgreSQL (LISTEN/NOTIFY).

A commit that changes a support request notifies ``district.support.NOTIFY_CHANNEL``; every
server process sharing the database listens on it from one thread with its own connection and
wakes its long-polling pulls at once, so a teacher's call that reached process A is in the hands
of a responder long-polling process B within one round trip (the pull's database re-read, about
every second, stays as the fallback). On SQLite one process serves, and its in-process notifier
is enough.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from district.notify import ChangeNotifier
from district.support import NOTIFY_CHANNEL

log = logging.getLogger("classlog.district")
RECONNECT_SECONDS = 1.0
POLL_SECONDS = 0.5


class SupportListener:
    """One thread holding a LISTEN connection; ``stop`` ends it within about half a second."""

    def __init__(self, engine: Engine, notifier: ChangeNotifier) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.notifier = notifier
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="support-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for _note in connection.notifies(timeout=POLL_SECONDS):
                            self.notifier.notify()
            except psycopg.Error as error:
                self.listening.clear()
                log.warning("support request listener: %s (reconnecting)", error)
                self._stop.wait(RECONNECT_SECONDS)


def start_listener(engine: Engine, notifier: ChangeNotifier) -> SupportListener | None:
    """A running listener for a PostgreSQL database, or None for SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    listener = SupportListener(engine, notifier)
    listener.start()
    return listener
