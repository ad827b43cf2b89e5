"""Where an admin device's dashboard reads from: the server URL, role and scope recorded at
enrollment, and the token file. Plain reads of the device database: no HTTP client here, so the
teacher's start-up can ask :func:`enrolled_role` without loading one."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from schema.errors import UserError

TOKEN_FILE_NAME = "sync-token"
DEVICE_DB_NAME = "device.db"


class NotAnAdminDevice(UserError):
    """This device cannot open the dashboard; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class AdminConnection:
    """What the dashboard needs to talk to the server as this device."""

    server_url: str
    token: str
    school_id: str
    timezone: str
    home: Path


def _meta(home: Path) -> dict[str, str]:
    database = home / DEVICE_DB_NAME
    if not database.exists():
        return {}
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return {}
    try:
        rows = connection.execute("SELECT key, value FROM meta").fetchall()
    except sqlite3.Error:
        return {}
    finally:
        connection.close()
    return {str(key): str(value) for key, value in rows}


def enrolled_role(home: Path) -> str | None:
    """The role this device was enrolled with (``admin``, ``classroom``, ``mobile``), if any."""
    return _meta(home).get("enrolled_role")


def admin_connection(home: Path) -> AdminConnection:
    """The server and token of an admin-enrolled device, or :class:`NotAnAdminDevice`."""
    meta = _meta(home)
    role = meta.get("enrolled_role")
    if role is None or "server_url" not in meta:
        raise NotAnAdminDevice(
            f"this device ({home}) is not enrolled: ask for an admin enrollment code and run "
            "`classlog enroll URL CODE`"
        )
    if role != "admin":
        raise NotAnAdminDevice(
            f"this device is enrolled as {role}, not admin: the dashboard needs a device "
            "enrolled with an admin code"
        )
    try:
        token = (home / TOKEN_FILE_NAME).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = ""
    if not token:
        raise NotAnAdminDevice(
            f"no token in {home / TOKEN_FILE_NAME}: enroll this device again with an admin code"
        )
    return AdminConnection(
        server_url=meta["server_url"].rstrip("/"),
        token=token,
        school_id=meta.get("school_id", ""),
        timezone=meta.get("timezone") or "UTC",
        home=home,
    )
