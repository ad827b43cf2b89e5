"""The district config the summaries read and administrators set: the school calendar and the
suppression thresholds, two rows of ``district_config`` (``calendar`` and ``suppression``).
Devices receive them by sync like the rest of the config and ignore what they do not use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from district import tables
from district.db import WriteTx
from schema.summaries import SchoolCalendar, SummaryConfig, SuppressionThresholds

CALENDAR_KEY = "calendar"
SUPPRESSION_KEY = "suppression"


def _row(connection: Connection, key: str) -> dict[str, Any] | None:
    table = tables.district_config
    row = connection.execute(sa.select(table.c.value).where(table.c.key == key)).first()
    return dict(row[0]) if row is not None else None


def read_summary_config(connection: Connection) -> SummaryConfig:
    """The stored config, defaults where nothing was set."""
    calendar = _row(connection, CALENDAR_KEY)
    thresholds = _row(connection, SUPPRESSION_KEY)
    return SummaryConfig(
        calendar=SchoolCalendar.model_validate(calendar) if calendar else SchoolCalendar(),
        suppression=(
            SuppressionThresholds.model_validate(thresholds)
            if thresholds
            else SuppressionThresholds()
        ),
    )


def _store(tx: WriteTx, key: str, value: dict[str, Any]) -> bool:
    """Write one config row; False when it already held ``value``."""
    table = tables.district_config
    current = _row(tx.connection, key)
    if current == value:
        return False
    tx.roster_changed = True
    cursor = tx.next_cursor()
    if current is None:
        tx.connection.execute(sa.insert(table).values(key=key, value=value, cursor=cursor))
    else:
        tx.connection.execute(
            sa.update(table).where(table.c.key == key).values(value=value, cursor=cursor)
        )
    return True


def store_summary_config(tx: WriteTx, config: SummaryConfig) -> bool:
    """Store the calendar and the thresholds (already validated); True when anything changed."""
    calendar = _store(tx, CALENDAR_KEY, config.calendar.model_dump(mode="json"))
    suppression = _store(tx, SUPPRESSION_KEY, config.suppression.model_dump(mode="json"))
    return calendar or suppression
