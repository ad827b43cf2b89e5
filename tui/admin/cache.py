"""The last report fetched for each set of filters, kept in the device home (mode 0600) so an
offline dashboard still shows something, with the time it was fetched.

Only summaries are kept (suppressed as the server published them); drill-down records, which
name students, are never written here.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

CACHE_FILE_NAME = "admin-cache.json"
MAX_ENTRIES = 60


class ReportCache:
    """Report JSON by (report, filters) key, newest kept, persisted after each put."""

    def __init__(self, home: Path) -> None:
        self.path = home / CACHE_FILE_NAME
        self._entries: dict[str, dict[str, Any]] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        if isinstance(loaded, dict):
            self._entries = {
                key: value
                for key, value in loaded.items()
                if isinstance(value, dict) and "data" in value and "fetched_at" in value
            }

    def get(self, key: str) -> tuple[dict[str, Any], datetime] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            fetched_at = datetime.fromisoformat(entry["fetched_at"])
        except (TypeError, ValueError):
            return None
        return entry["data"], fetched_at

    def put(self, key: str, data: dict[str, Any], fetched_at: datetime) -> None:
        self._entries.pop(key, None)
        self._entries[key] = {"fetched_at": fetched_at.isoformat(), "data": data}
        while len(self._entries) > MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
                json.dump(self._entries, sink)
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)
