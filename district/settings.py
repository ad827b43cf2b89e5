"""The server's settings, in one place: defaults, overridden by ``CLASSLOG_DISTRICT_*`` variables
or by the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schema.errors import UserError

ENV_PREFIX = "CLASSLOG_DISTRICT_"
DB_ENV = "CLASSLOG_DISTRICT_DB"
DEFAULT_DB_FILE = "district.db"
WORKER_THREADS = 40
"""The worker threads the server's async framework runs blocking work on (AnyIO's default)."""


class SettingsError(UserError, ValueError):
    """A server setting out of its range, named by where it came from."""


def default_database_url() -> str:
    """$CLASSLOG_DISTRICT_DB, else a SQLite file named district.db in the current folder."""
    explicit = os.environ.get(DB_ENV)
    if explicit:
        return explicit
    return f"sqlite:///{Path.cwd() / DEFAULT_DB_FILE}"


class Settings(BaseModel):
    """What an operator may tune. Limits protect the server from one device's mistakes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Largest request body accepted (413 above it): a push is at most about 1 MB."""
    rate_limit_per_minute: float = Field(default=600.0, gt=0)
    """Sustained requests per minute per token (or per address for enrollment)."""
    rate_limit_burst: int = Field(default=120, ge=1)
    enrollment_code_ttl_hours: float = Field(default=72.0, gt=0)
    long_poll_db_interval_seconds: float = Field(default=1.0, gt=0)
    """How often a long-polling pull re-reads the database for other processes' writes; writes
    in the same process wake it at once."""
    support_request_expiry_minutes: float | None = Field(default=None, gt=0)
    """How long a support request nobody took stays open before it expires; unset, the
    district config's ``support_request_expiry_minutes`` (default 30) decides."""
    server_node: str = Field(default="server", min_length=1, max_length=64)
    """The node id in the server's hybrid logical clock."""
    migrate_on_start: bool = True
    pool_size: int = Field(default=WORKER_THREADS, ge=1)
    """Database connections kept open: one for each worker thread. With fewer, a burst (a
    change waking hundreds of long-polls) waited for connections and opened and closed one per
    request beyond the pool."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``CLASSLOG_DISTRICT_<FIELD>`` variables (and $CLASSLOG_DISTRICT_DB for
        the URL), then ``overrides`` (None values ignored)."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if source.get(DB_ENV):
            values["database_url"] = source[DB_ENV]
        for name in cls.model_fields:
            variable = ENV_PREFIX + name.upper()
            if variable in source:
                values[name] = source[variable]
        values.update({name: value for name, value in overrides.items() if value is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            name = str(first["loc"][0]) if first["loc"] else ""
            where = DB_ENV if name == "database_url" else ENV_PREFIX + name.upper()
            if not name or name in overrides:
                where = name.replace("_", " ") or "server settings"
            raise SettingsError(f"{where}: {first['msg']}, not {first['input']!r}") from None
