"""Local change detection: watchfiles on the database's directory, filtered by
``PRAGMA data_version``.

The directory is watched, not the ``-wal`` file: SQLite creates, truncates and deletes the WAL
and shared-memory files, and a watch on a path that disappears goes blind. Any event on the
database's files only wakes a check of ``data_version`` on the daemon's own connection, which
changes when another connection committed and never for reads (nor for the daemon's own
writes), so a TUI scrolling through records never triggers a push.

A commit's file events come from writing its frames to the WAL; it becomes visible only after
the fsync that follows, which makes no event of its own (the shared-memory index is updated
through a memory map). On a slow disk the check can run inside that gap and see nothing new;
so an event that shows no new commit starts a few more checks over the next half second
(``RECHECK_SECONDS``, in a task of their own, so later events are still handled at once), or a
call for help could sit unsent until the long-poll times out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

DEBOUNCE_MS = 30
STEP_MS = 20
RECHECK_SECONDS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3)
"""Delays between the re-checks of ``data_version`` after an event that showed no commit."""


def database_filter(database: Path) -> Callable[[Change, str], bool]:
    name = database.name

    def wanted(change: Change, path: str) -> bool:
        return Path(path).name.startswith(name)

    return wanted


async def watch_commits(
    database: Path,
    data_version: Callable[[], Awaitable[int]],
    changed: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """Set ``changed`` whenever another connection commits to ``database``."""
    last = await data_version()
    settling: asyncio.Task[None] | None = None

    async def check() -> bool:
        nonlocal last
        version = await data_version()
        if version == last:
            return False
        last = version
        changed.set()
        return True

    async def settle() -> None:
        for delay in RECHECK_SECONDS:
            await asyncio.sleep(delay)
            if await check():
                return

    try:
        async for _events in awatch(
            database.parent,
            watch_filter=database_filter(database),
            stop_event=stop,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            recursive=False,
            rust_timeout=1000,
        ):
            if settling is not None:
                settling.cancel()
                settling = None
            if not await check():
                settling = asyncio.create_task(settle())
    finally:
        if settling is not None:
            settling.cancel()
