"""The few places where the summaries' SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def as_int(flag: Any) -> sa.ColumnElement[int]:
    """A boolean column as 0/1, so MAX and SUM work on both databases."""
    return sa.cast(flag, sa.Integer)
