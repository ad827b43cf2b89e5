"""Where a record is, as far as this device can know: kept here, waiting to sync, at the district,
refused, or withdrawn from the district.

Read from what the store and the daemon keep anyway: the outbox (ops not yet acknowledged), the
dead letters (ops refused for good, with the reason) and ``remote_copies`` (records that may have
reached the server: marked when a batch is taken, before anything is sent, so a record is "at
the district" only once it is marked there and no op of it is still queued).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

REFUSED_HERE_PREFIX = "refused on this device: "
"""How the daemon words an op it would not send (``SyncStore.take_batch``)."""


class Place(StrEnum):
    DEVICE_ONLY = "device_only"
    """Level 1, never sent: it stays on this device (R1)."""
    WAITING = "waiting"
    """At least one change is queued for the district."""
    AT_DISTRICT = "at_district"
    """Sent and acknowledged (or a record that came from the district)."""
    REFUSED = "refused"
    """The district refused a change of it for good (``reason``)."""
    NOT_SENT = "not_sent"
    """This device would not send a change of it (``reason``)."""
    WITHDRAWING = "withdrawing"
    """Edited down to Level 1 after it may have reached the district: the withdrawal is queued."""
    WITHDRAWN = "withdrawn"
    """Edited down to Level 1 after it may have reached the district, and withdrawn."""
    WITHDRAWAL_REFUSED = "withdrawal_refused"
    """Edited down to Level 1, but the district refused the withdrawal (``reason``)."""


@dataclass(frozen=True, slots=True)
class RecordPlace:
    place: Place
    reason: str | None = None
    may_have_left: bool = False
    """Some version of it may have reached the district (it was taken into a push)."""


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A record to place: its id, its level (None for a Take a Break) and whether this device
    owns it (a copy from another device came from the district)."""

    entity_id: str
    level: int | None
    owned_here: bool = True


def record_places(
    connection: sqlite3.Connection, kind: str, records: Sequence[RecordRef]
) -> dict[str, RecordPlace]:
    """The place of each record of one kind ("incident" or "tab"), by id: three indexed reads
    for the whole list."""
    ids = [record.entity_id for record in records]
    pending: dict[str, set[str]] = {}
    refused: dict[str, tuple[str, str]] = {}
    remote: set[str] = set()
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        for row in connection.execute(
            f"SELECT entity_id, op FROM outbox WHERE kind = ? AND entity_id IN ({marks})",
            (kind, *chunk),
        ):
            pending.setdefault(row[0], set()).add(row[1])
        for row in connection.execute(
            "SELECT entity_id, op, reason FROM dead_letters "
            f"WHERE kind = ? AND entity_id IN ({marks}) ORDER BY at, op_id",
            (kind, *chunk),
        ):
            refused[row[0]] = (row[1], row[2])
        remote.update(
            row[0]
            for row in connection.execute(
                f"SELECT entity_id FROM remote_copies WHERE kind = ? AND entity_id IN ({marks})",
                (kind, *chunk),
            )
        )
    return {
        record.entity_id: _place(
            record,
            pending.get(record.entity_id, set()),
            refused.get(record.entity_id),
            record.entity_id in remote,
        )
        for record in records
    }


def _place(
    record: RecordRef, pending: set[str], refused: tuple[str, str] | None, remote: bool
) -> RecordPlace:
    if not record.owned_here:
        return RecordPlace(Place.AT_DISTRICT, may_have_left=True)
    if record.level == 1:
        if "retract" in pending:
            return RecordPlace(Place.WITHDRAWING, may_have_left=True)
        if refused is not None and refused[0] == "retract":
            return RecordPlace(Place.WITHDRAWAL_REFUSED, refused[1], may_have_left=True)
        return RecordPlace(Place.WITHDRAWN if remote else Place.DEVICE_ONLY, may_have_left=remote)
    if pending:
        return RecordPlace(Place.WAITING, may_have_left=remote)
    if refused is not None:
        reason = refused[1]
        if reason.startswith(REFUSED_HERE_PREFIX):
            return RecordPlace(
                Place.NOT_SENT, reason.removeprefix(REFUSED_HERE_PREFIX), may_have_left=remote
            )
        return RecordPlace(Place.REFUSED, reason, may_have_left=remote)
    if remote:
        return RecordPlace(Place.AT_DISTRICT, may_have_left=True)
    return RecordPlace(Place.WAITING)


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
