"""The few places where the summaries' SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def days_between(connection: Connection, later: Any, earlier: Any) -> sa.ColumnElement[Any]:
    """``later - earlier`` in days (fractional), for two timestamp columns."""
    if connection.dialect.name == "sqlite":
        return sa.func.julianday(later) - sa.func.julianday(earlier)
    return sa.extract("epoch", later - earlier) / 86400.0


def as_int(flag: Any) -> sa.ColumnElement[int]:
    """A boolean column as 0/1, so MAX and SUM work on both databases."""
    return sa.cast(flag, sa.Integer)
