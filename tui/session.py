"""One teacher's screen per device: an ``fcntl`` lock on ``tui.lock`` in the device home.

A second ``classlog`` on the same data is refused with one line naming the first one's pid,
instead of two screens each showing its own stale view. The lock dies with the process (even
``kill -9``), so a crash never leaves a stale lock behind; ``scripts/demo`` asks the same lock
before it removes its home (see :func:`in_use`).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from schema.errors import UserError

LOCK_FILE_NAME = "tui.lock"


class AlreadyOpenError(UserError):
    """Another classlog screen holds this device's data."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"classlog is already open on this device's data in another window{who}: "
            "use that window, or quit it first"
        )


class Session:
    """Holds the lock while the screen runs."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE_NAME
        self._descriptor: int | None = None

    def acquire(self) -> None:
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode("ascii", "replace").strip()
            os.close(descriptor)
            raise AlreadyOpenError(int(holder) if holder.isdigit() else None) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode("ascii"))
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.ftruncate(self._descriptor, 0)
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None


def in_use(lock_file: Path) -> bool:
    """Whether another process holds the ``fcntl`` lock on ``lock_file`` right now."""
    if not lock_file.exists():
        return False
    try:
        descriptor = os.open(lock_file, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False
