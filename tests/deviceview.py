"""What a device's records that may sync should look like on the server, read from the device's
database with the field lists written by hand (tests/recordfields.py) and decoded here, not by
the store's own row-to-wire code: a field the code stops syncing then shows up as a difference
instead of vanishing from both sides of the comparison."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from recordfields import BY_KIND

TABLES = {"incident": "incidents", "tab": "tab_events", "follow_up": "follow_ups"}
_JSON = ("actions", "iss_safeguards")
_BOOLEAN = ("iss_recorded_as_removal", "progression_bypassed")
_OPTIONAL_BOOLEAN = ("returned_ready",)


def wire_values(kind: str, row: sqlite3.Row) -> dict[str, Any]:
    """A device row's synced fields as JSON values."""
    values: dict[str, Any] = {}
    for name in BY_KIND[kind]:
        value = row[name]
        if name in _JSON and value is not None:
            value = json.loads(value)
        elif name in _BOOLEAN or (name in _OPTIONAL_BOOLEAN and value is not None):
            value = bool(value)
        values[name] = value
    return values


def level_2_view(connection: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Record id -> {"kind": kind, **fields} for every record on the device that may be on the
    server: Level 2 incidents, their follow-ups, and every TAB (its link cleared when it points
    at anything but a Level 2 incident, R1 and R3)."""
    view: dict[str, dict[str, Any]] = {}
    for row in connection.execute("SELECT * FROM incidents WHERE level = 2"):
        view[row["id"]] = {"kind": "incident", **wire_values("incident", row)}
    for row in connection.execute(
        "SELECT f.* FROM follow_ups f JOIN incidents i ON i.id = f.incident_id WHERE i.level = 2"
    ):
        view[row["id"]] = {"kind": "follow_up", **wire_values("follow_up", row)}
    for row in connection.execute("SELECT * FROM tab_events"):
        fields = wire_values("tab", row)
        linked = fields["incident_id"]
        if linked is not None:
            level = connection.execute(
                "SELECT level FROM incidents WHERE id = ?", (linked,)
            ).fetchone()
            if level is None or level[0] != 2:
                fields["incident_id"] = None
        view[row["id"]] = {"kind": "tab", **fields}
    return view
