"""Support requests on the server (R9): applying a device's changes, the rows a pull sends,
and closing stale requests.

A request's scope is its school: every mobile (and admin) device of the school pulls it, and
the classroom device that sent it pulls its own. The server decides the state. A device may
create a request only as itself (its device, its staff member, its school, students in its
scope); an accept is applied only while the request is open, so of two responders the first to
commit takes it and the other is answered ``superseded`` with who did; only the teacher who
sent a request cancels it; only its responder resolves it. An op that lost moves the request to
a new cursor, so the device that sent it pulls the request as it now stands.

Requests older than the district's ``support_request_expiry_minutes`` (default 30) that nobody
took are closed as ``expired`` (see ``expire_stale``); both sides see it on their next pull.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import JsonValue
from sqlalchemy.engine import Connection, Engine

from district import tables
from district.clock import ServerClock
from district.db import WriteTx, as_utc, read_config, write_transaction
from district.scope import Device, school_matches
from schema.contract import ContractError, canonical_moment, check_fields
from schema.errors import ClasslogError
from schema.fields import REQUIRED_ON_CREATE, SUPPORT_REQUEST_SHAPES
from schema.wire import Change, OpResult, OpStatus, PushOp

if TYPE_CHECKING:
    from district.push import _Push

KIND: Literal["support_request"] = "support_request"
DEFAULT_EXPIRY_MINUTES = 30.0
EXPIRY_KEY = "support_request_expiry_minutes"
RECENT_ON_FIRST_PULL = timedelta(hours=24)
"""A device's first pull brings live requests and the ones closed in this window, not the
school's whole history."""
EXPIRY_CHECK_SECONDS = 2.0
NOTIFY_CHANNEL = "classlog_support"
"""PostgreSQL channel a commit that changed a support request notifies (payload: school id), so
long-polls in every server process wake at once (see ``district.listen``)."""
TRANSITION_FIELDS: dict[str, frozenset[str]] = {
    "accepted": frozenset({"state", "accepted_by", "accepted_by_name", "accepted_at"}),
    "cancelled": frozenset({"state", "resolved_at"}),
    "resolved": frozenset({"state", "outcome", "incident_id", "resolved_at"}),
}
"""What each change of state a device may send sets (besides ``updated_at``)."""
LIVE = ("open", "accepted")
LINK_DROPPED = (
    "the request's record link was dropped: the server holds no such Level 2 record for this device"
)


class SupportRejection(ClasslogError):
    """A support request op refused for good (or, with ``retry``, for now)."""

    def __init__(self, reason: str, retry: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass
class RequestRow:
    id: str
    owner_device_id: str
    fields: dict[str, Any]
    field_hlc: dict[str, str]
    cursor: int

    @property
    def state(self) -> str:
        return str(self.fields.get("state"))

    @property
    def school_id(self) -> str | None:
        value = self.fields.get("school_id")
        return value if isinstance(value, str) else None

    def taker(self) -> str:
        return str(self.fields.get("accepted_by_name") or self.fields.get("accepted_by") or "")

    def change(self, cursor: int | None = None) -> Change:
        return Change.model_construct(
            cursor=self.cursor if cursor is None else cursor,
            kind=KIND,
            id=self.id,
            op="upsert",
            fields=self.fields,
            field_hlc=self.field_hlc,
        )


def _wire_value(shape: str, value: Any) -> Any:
    if value is None:
        return [] if shape == "ids" else None
    if shape == "moment":
        return canonical_moment(as_utc(value))
    if shape == "ids":
        return list(value)
    return value


def _column_value(shape: str, value: Any) -> Any:
    if value is None:
        return None
    if shape == "moment":
        return as_utc(datetime.fromisoformat(str(value)))
    if shape == "ids":
        return list(value)
    return value


def row_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A typed row as the record contract's wire fields."""
    return {name: _wire_value(shape, row[name]) for name, shape in SUPPORT_REQUEST_SHAPES.items()}


def content_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Wire fields as typed column values."""
    return {
        name: _column_value(SUPPORT_REQUEST_SHAPES[name], value)
        for name, value in fields.items()
        if name in SUPPORT_REQUEST_SHAPES
    }


def _from_row(row: Mapping[Any, Any]) -> RequestRow:
    return RequestRow(
        id=row["id"],
        owner_device_id=row["owner_device_id"],
        fields=row_fields(row),
        field_hlc=dict(row["field_hlc"] or {}),
        cursor=int(row["cursor"]),
    )


def load(connection: Connection, request_id: str) -> RequestRow | None:
    table = tables.support_requests
    row = connection.execute(sa.select(table).where(table.c.id == request_id)).mappings().first()
    return None if row is None else _from_row(row)


def _notify(tx: WriteTx, school_id: str | None) -> None:
    """Wake every server process's long-polls when this transaction commits (PostgreSQL; on
    SQLite one process serves, and its in-process notifier wakes them)."""
    if tx.connection.dialect.name == "postgresql":
        tx.connection.execute(
            sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, school_id or "")),
        )


class SupportOps:
    """The support request ops of one push, applied inside its write transaction."""

    def __init__(self, push: _Push) -> None:
        self.push = push
        self.tx = push.tx
        self.device = push.device
        self.now = push.now

    def apply(self, op: PushOp) -> OpResult:
        if op.op == "retract":
            raise SupportRejection("a support request is cancelled, never retracted")
        try:
            fields = check_fields(KIND, op.fields)
        except ContractError as error:
            raise SupportRejection(str(error)) from None
        row = load(self.tx.connection, op.id)
        if row is None:
            return self._create(op, fields)
        return self._change(op, fields, row)

    def _create(self, op: PushOp, fields: dict[str, JsonValue]) -> OpResult:
        device = self.device
        missing = sorted(name for name in REQUIRED_ON_CREATE[KIND] if fields.get(name) is None)
        if missing:
            raise SupportRejection(
                f"a new support request needs {', '.join(missing)}: send the whole record",
                retry=True,
            )
        if fields.get("state") != "open" or fields.get("accepted_by") is not None:
            raise SupportRejection("a new support request must be open and not yet accepted")
        if device.role == "admin" and not device.staff_id:
            raise SupportRejection("this device sends no support requests")
        if fields.get("device_id") != device.id:
            raise SupportRejection("field device_id must name the pushing device")
        if device.staff_id and fields.get("requested_by") != device.staff_id:
            raise SupportRejection("a device sends support requests only for its own staff member")
        if not device.district_scope and fields.get("school_id") != device.school_id:
            raise SupportRejection("a support request must name this device's school")
        section_id = fields.get("section_id")
        if (
            device.role == "classroom"
            and section_id is not None
            and section_id not in device.section_ids
        ):
            raise SupportRejection(f"section {section_id} is not one of this device's sections")
        student_ids = fields.get("student_ids")
        for student_id in student_ids if isinstance(student_ids, list) else []:
            if not self.push._in_scope(str(student_id)):
                raise SupportRejection(f"student {student_id} is not in this device's scope")
        stamp = dict.fromkeys(fields, op.hlc)
        cursor = self.tx.next_cursor()
        self.tx.connection.execute(
            sa.insert(tables.support_requests).values(
                id=op.id,
                owner_device_id=device.id,
                **content_columns(fields),
                field_hlc=stamp,
                cursor=cursor,
                stored_at=self.now,
                changed_at=self.now,
            )
        )
        _notify(self.tx, str(fields.get("school_id")))
        return OpResult(op_id=op.op_id, status=OpStatus.APPLIED)

    def _change(self, op: PushOp, fields: dict[str, JsonValue], row: RequestRow) -> OpResult:
        device = self.device
        if not (device.district_scope or row.school_id == device.school_id):
            raise SupportRejection("this support request is not in this device's school")
        state = fields.get("state")
        allowed = TRANSITION_FIELDS.get(str(state))
        if allowed is None:
            if (
                row.owner_device_id == device.id
                and set(fields) <= set(row.fields)
                and all(row.fields.get(name) == value for name, value in fields.items())
            ):
                return self._superseded(op, row, "this request holds these values already")
            raise SupportRejection("a support request changes only by accept, cancel or resolve")
        unknown = set(fields) - allowed - {"updated_at"}
        if unknown:
            raise SupportRejection(f"a change to {state} does not set {', '.join(sorted(unknown))}")
        if state == "accepted":
            return self._accept(op, fields, row)
        if state == "cancelled":
            return self._cancel(op, fields, row)
        return self._resolve(op, fields, row)

    def _accept(self, op: PushOp, fields: dict[str, JsonValue], row: RequestRow) -> OpResult:
        device = self.device
        if device.role != "mobile":
            raise SupportRejection("only a mobile response device can accept a support request")
        if device.staff_id and fields.get("accepted_by") != device.staff_id:
            raise SupportRejection("a responder accepts only as themselves")
        if not fields.get("accepted_by"):
            raise SupportRejection("an accept names who accepts (accepted_by)")
        if row.state != "open":
            if row.state == "accepted":
                if row.fields.get("accepted_by") == fields.get("accepted_by"):
                    return self._superseded(op, row, "you have accepted this request already")
                return self._superseded(op, row, f"already accepted by {row.taker()}")
            return self._superseded(op, row, f"this request is {row.state}")
        now_text = canonical_moment(self.now)
        return self._write(
            op,
            row,
            {
                "state": "accepted",
                "accepted_by": fields["accepted_by"],
                "accepted_by_name": fields.get("accepted_by_name") or "",
                "accepted_at": now_text,
                "updated_at": now_text,
            },
        )

    def _cancel(self, op: PushOp, fields: dict[str, JsonValue], row: RequestRow) -> OpResult:
        device = self.device
        own = row.owner_device_id == device.id or (
            device.staff_id is not None and row.fields.get("requested_by") == device.staff_id
        )
        if not own:
            raise SupportRejection("only the teacher who sent a request can cancel it")
        if row.state not in LIVE:
            return self._superseded(op, row, f"this request is {row.state} already")
        now_text = canonical_moment(self.now)
        return self._write(
            op, row, {"state": "cancelled", "resolved_at": now_text, "updated_at": now_text}
        )

    def _resolve(self, op: PushOp, fields: dict[str, JsonValue], row: RequestRow) -> OpResult:
        device = self.device
        if device.role != "mobile":
            raise SupportRejection("only the responder who took a request resolves it")
        if row.state != "accepted":
            return self._superseded(op, row, f"this request is {row.state}")
        taker = row.fields.get("accepted_by")
        if device.staff_id is None or taker != device.staff_id:
            return self._superseded(op, row, f"this request was taken by {row.taker()}")
        if fields.get("outcome") is None:
            raise SupportRejection("a resolved request names its outcome")
        reason: str | None = None
        incident_id = fields.get("incident_id")
        if incident_id is not None:
            parent = self.push._parent_incident(str(incident_id))
            if parent is None or fields.get("outcome") != "logged":
                incident_id = None
                reason = LINK_DROPPED
        now_text = canonical_moment(self.now)
        return self._write(
            op,
            row,
            {
                "state": "resolved",
                "outcome": fields["outcome"],
                "incident_id": incident_id,
                "resolved_at": now_text,
                "updated_at": now_text,
            },
            reason,
        )

    def _write(
        self,
        op: PushOp,
        row: RequestRow,
        values: dict[str, JsonValue],
        reason: str | None = None,
    ) -> OpResult:
        clocks = {**row.field_hlc, **dict.fromkeys(values, op.hlc)}
        table = tables.support_requests
        self.tx.connection.execute(
            sa.update(table)
            .where(table.c.id == row.id)
            .values(
                **content_columns(values),
                field_hlc=clocks,
                cursor=self.tx.next_cursor(),
                changed_at=self.now,
            )
        )
        _notify(self.tx, row.school_id)
        return OpResult(op_id=op.op_id, status=OpStatus.APPLIED, reason=reason)

    def _superseded(self, op: PushOp, row: RequestRow, reason: str) -> OpResult:
        """The op lost; the request moves to a new cursor so its sender pulls it as it is."""
        table = tables.support_requests
        self.tx.connection.execute(
            sa.update(table).where(table.c.id == row.id).values(cursor=self.tx.next_cursor())
        )
        return OpResult(op_id=op.op_id, status=OpStatus.SUPERSEDED, reason=reason)


def unlink_record(tx: WriteTx, record_id: str) -> None:
    """R1: a request resolved with a record that was retracted (edited down to Level 1, or
    withdrawn) stops naming it; its devices pull it again without the link."""
    table = tables.support_requests
    linked = tx.connection.execute(
        sa.select(table.c.id, table.c.school_id).where(table.c.incident_id == record_id)
    ).all()
    for request_id, school_id in linked:
        tx.connection.execute(
            sa.update(table)
            .where(table.c.id == request_id)
            .values(incident_id=None, cursor=tx.next_cursor())
        )
        _notify(tx, school_id)


def visible(device: Device, table: sa.Table) -> sa.ColumnElement[bool]:
    """The requests a device pulls: its school's (mobile, admin), or its own (classroom)."""
    if device.role == "classroom":
        own = table.c.owner_device_id == device.id
        if device.staff_id:
            return sa.or_(own, table.c.requested_by == device.staff_id)
        return own
    return school_matches(device, table.c.school_id)


def pull_rows(
    connection: Connection, device: Device, after: int, top: int, limit: int, now: datetime
) -> list[RequestRow]:
    """The requests in ``device``'s scope changed in (after, top], in cursor order."""
    table = tables.support_requests
    where = sa.and_(table.c.cursor > after, table.c.cursor <= top, visible(device, table))
    if after == 0:
        where = sa.and_(
            where,
            sa.or_(table.c.state.in_(LIVE), table.c.changed_at >= now - RECENT_ON_FIRST_PULL),
        )
    rows = connection.execute(
        sa.select(table).where(where).order_by(table.c.cursor).limit(limit + 1)
    ).mappings()
    return [_from_row(row) for row in rows]


def expiry_minutes(connection: Connection, override: float | None = None) -> float:
    """The district's limit on how long a request stays open (the server's setting, when an
    operator gave one, wins over the district config)."""
    if override is not None:
        return override
    value = read_config(connection).get(EXPIRY_KEY)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_EXPIRY_MINUTES


def expire_stale(
    engine: Engine, clock: ServerClock, *, override_minutes: float | None = None
) -> int:
    """Close as expired every open request older than the district's limit, in one write
    transaction (none when there is nothing to close). Returns how many were closed."""
    table = tables.support_requests
    now = clock.now()
    with engine.connect() as connection:
        cutoff = now - timedelta(minutes=expiry_minutes(connection, override_minutes))
        stale = connection.execute(
            sa.select(table.c.id)
            .where(table.c.state == "open", table.c.created_at < cutoff)
            .limit(1)
        ).first()
    if stale is None:
        return 0
    closed = 0
    with write_transaction(engine) as tx:
        rows = tx.connection.execute(
            sa.select(table)
            .where(table.c.state == "open", table.c.created_at < cutoff)
            .order_by(table.c.created_at)
        ).mappings()
        stamp = clock.tick().encode()
        now_text = canonical_moment(now)
        for row in list(rows):
            values = {"state": "expired", "resolved_at": now_text, "updated_at": now_text}
            clocks = {**dict(row["field_hlc"] or {}), **dict.fromkeys(values, stamp)}
            tx.connection.execute(
                sa.update(table)
                .where(table.c.id == row["id"], table.c.state == "open")
                .values(
                    **content_columns(values),
                    field_hlc=clocks,
                    cursor=tx.next_cursor(),
                    changed_at=now,
                )
            )
            _notify(tx, row["school_id"])
            closed += 1
    return closed


class ExpirySweeper:
    """Runs ``expire_stale`` at most every few seconds per process, from the pull path (a
    long-poll re-reads about every second, so an expiry reaches waiting devices promptly)."""

    def __init__(self, interval: float = EXPIRY_CHECK_SECONDS) -> None:
        self.interval = interval
        self._last = -interval
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            moment = time.monotonic()
            if moment - self._last < self.interval:
                return False
            self._last = moment
            return True
