"""The device's sync token: a file in the device home, mode 0600, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

TOKEN_FILE_NAME = "sync-token"


def token_path(home: Path) -> Path:
    return home / TOKEN_FILE_NAME


def write_token(home: Path, token: str) -> Path:
    """Replace the token file; never readable by other users, even for an instant."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = token_path(home)
    temporary = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, token.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, final)
    return final


def read_token(home: Path) -> str | None:
    try:
        text = token_path(home).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return text or None
