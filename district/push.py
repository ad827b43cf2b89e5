"""Applying a push (DESIGN section 5): one transaction per request, deduplicated per
(device, op id) inside it, one result per op.

Per op, in order: a duplicate answers ``duplicate``; a clock more than 5 minutes ahead is
``rejected`` with retry; Level 1 content, a record of another device, a create or update of a
record whose student is outside the device's scope (re-checked on every update, as on a create),
or a create without its required fields is ``rejected`` for good; an upsert
none of whose fields is newer than the server's is ``superseded``; otherwise ``applied``.
Retractions delete the content and keep a tombstone; a later upsert re-creates the record, an
earlier one is ``superseded``.

The request's records, op ids and students are read in a few bulk queries up front and the
changes written in bulk at the end, so a 500-op push costs a handful of round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import JsonValue
from sqlalchemy.engine import Engine

from district import tables
from district.clock import ServerClock
from district.db import WriteTx, among, checkpoint_sqlite, grid_behavior_codes, write_transaction
from district.plan_rules import PlanChecker, refusal_words
from district.records import Record, RecordSet, apply_merge, merge, move_student
from district.scope import Device, school_scope_allows, students_in_scope
from district.support import SupportOps, SupportRejection, unlink_record
from schema.clock import Timestamp
from schema.contract import ContractError, check_fields
from schema.errors import ClasslogError
from schema.fields import REFERRAL_DECISION_FIELDS, REQUIRED_ON_CREATE
from schema.rules import RuleViolation
from schema.wire import (
    MAX_CLOCK_AHEAD_MS,
    OpResult,
    OpStatus,
    PushOp,
    PushRequest,
    PushResponse,
)

TAB_LINK_DROPPED = "the TAB's incident link was dropped: the server holds no such Level 2 record"
BATCH = 500


class Rejection(ClasslogError):
    """An op the server will not apply; ``retry`` says whether it may succeed later."""

    def __init__(self, reason: str, retry: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def _applied(op: PushOp, reason: str | None = None) -> OpResult:
    return OpResult.model_construct(op_id=op.op_id, status=OpStatus.APPLIED, reason=reason)


def _superseded(op: PushOp, reason: str) -> OpResult:
    return OpResult(op_id=op.op_id, status=OpStatus.SUPERSEDED, reason=reason)


def _text(value: JsonValue) -> str | None:
    return value if isinstance(value, str) else None


class _Push:
    def __init__(
        self, tx: WriteTx, device: Device, now: datetime, now_ms: int, ops: list[PushOp]
    ) -> None:
        self.tx = tx
        self.connection = tx.connection
        self.device = device
        self.now = now
        self.now_ms = now_ms
        self.retracted = False
        self.records = RecordSet(tx, now)
        self.plan = PlanChecker(tx.connection)
        self.support = SupportOps(self)
        self.codes: frozenset[str] | None = None
        self.applied_rows: list[dict[str, Any]] = []
        self.latest: Timestamp | None = None
        """The latest clock of the ops not rejected."""
        self.seen = self._applied_op_ids([op.op_id for op in ops])
        linked = [_text(op.fields.get("incident_id")) for op in ops]
        touched = [op.id for op in ops] + [link for link in linked if link]
        self.records.prefetch(touched)
        students = {_text(op.fields.get("student_id")) for op in ops}
        students.update(record.student_id for record in map(self.records.get, touched) if record)
        known = {student for student in students if student}
        self.records.prefetch_schools(known)
        self.plan.know_students(self.records.plan_facts(known))
        self.scope: dict[str, bool] = {}
        if device.role == "classroom":
            visible = students_in_scope(self.connection, device, known)
            self.scope = {student: student in visible for student in known}

    def _applied_op_ids(self, op_ids: Iterable[str]) -> set[str]:
        applied = tables.applied_ops
        wanted = sorted(set(op_ids))
        if not wanted:
            return set()
        return set(
            self.connection.execute(
                sa.select(applied.c.op_id).where(
                    applied.c.device_id == self.device.id,
                    among(self.connection, applied.c.op_id, wanted),
                )
            ).scalars()
        )

    def apply(self, op: PushOp) -> OpResult:
        stamp = op.timestamp
        if op.op_id in self.seen:
            self._accepted(stamp)
            return OpResult(op_id=op.op_id, status=OpStatus.DUPLICATE)
        try:
            result = self._apply(op, stamp)
        except Rejection as rejection:
            return OpResult(
                op_id=op.op_id,
                status=OpStatus.REJECTED,
                reason=rejection.reason,
                retry=rejection.retry,
            )
        self.seen.add(op.op_id)
        self._accepted(stamp)
        self.applied_rows.append(
            {
                "device_id": self.device.id,
                "op_id": op.op_id,
                "status": result.status.value,
                "applied_at": self.now,
            }
        )
        return result

    def _accepted(self, stamp: Timestamp) -> None:
        if self.latest is None or stamp > self.latest:
            self.latest = stamp

    def flush(self) -> None:
        self.records.flush()
        if self.applied_rows:
            self.connection.execute(sa.insert(tables.applied_ops), self.applied_rows)

    def _apply(self, op: PushOp, stamp: Timestamp) -> OpResult:
        ahead_ms = stamp.wall_ms - self.now_ms
        if ahead_ms > MAX_CLOCK_AHEAD_MS:
            raise Rejection(
                f"clock ahead of the server by {ahead_ms / 1000:.0f} s (more than 5 minutes):"
                " correct the device clock by the server_time offset and retry",
                retry=True,
            )
        refusal = op.refusal()
        if refusal is not None:
            raise Rejection(refusal)
        if op.kind == "support_request":
            try:
                return self.support.apply(op)
            except SupportRejection as rejection:
                raise Rejection(rejection.reason, rejection.retry) from None
        record = self.records.get(op.id)
        if record is not None:
            if record.kind != op.kind:
                raise Rejection(f"id {op.id} is a {record.kind} record, not a {op.kind}")
            if record.owner_device_id != self.device.id:
                raise Rejection("this record belongs to another device: add a follow-up instead")
        if op.op == "retract":
            return self._retract(op, record)
        try:
            fields = check_fields(op.kind, op.fields, behavior_codes=self._behavior_codes(op))
        except ContractError as error:
            raise Rejection(str(error)) from None
        device_field = fields.get("device_id")
        if device_field is not None and device_field != self.device.id:
            raise Rejection("field device_id must name the pushing device")
        decided = (
            sorted(set(fields) & REFERRAL_DECISION_FIELDS) if op.kind == "office_referral" else []
        )
        if decided:
            raise Rejection(
                f"{', '.join(decided)}: the office's decision is recorded by an administrator on"
                " the server, never by a device"
            )
        if record is None or record.tombstone:
            return self._create(op, fields, record)
        return self._update(op, fields, record)

    def _behavior_codes(self, op: PushOp) -> frozenset[str] | None:
        """The grid's behavior codes, read once per push and only when an op names one."""
        if "behavior_code" not in op.fields:
            return None
        if self.codes is None:
            self.codes = grid_behavior_codes(self.connection)
        return self.codes

    def _retract(self, op: PushOp, record: Record | None) -> OpResult:
        if record is None:
            self.records.add(
                Record(
                    id=op.id,
                    kind=op.kind,
                    owner_device_id=self.device.id,
                    school_id=self.device.school_id,
                    student_id=None,
                    parent_id=None,
                    level=None,
                    fields={},
                    field_hlc={},
                    tombstone=True,
                    tombstone_hlc=op.hlc,
                    cursor=0,
                )
            )
            return _applied(op)
        if record.tombstone:
            if op.hlc <= (record.tombstone_hlc or ""):
                return _superseded(op, "already retracted")
            record.tombstone_hlc = op.hlc
            self.records.changed(record)
            return _applied(op)
        self._tombstone_tree(record, op.hlc)
        return _applied(op)

    def _tombstone_tree(self, record: Record, hlc: str) -> None:
        """Retract a record; an incident takes its follow-ups with it and its TABs lose their
        link to it (R1, R3: nothing on the server may point at a Level 1 record)."""
        if record.student_id is not None:
            record.school_id = self.records.school_of(record.student_id)
        children = self.records.children(record.id) if record.kind == "incident" else []
        self.records.tombstone(record, hlc)
        self.retracted = True
        if record.kind == "incident":
            unlink_record(self.tx, record.id)
        for child in children:
            if child.kind in ("follow_up", "intervention"):
                self.records.tombstone(child, hlc)
            else:
                child.fields["incident_id"] = None
                child.field_hlc["incident_id"] = max(hlc, child.field_hlc.get("incident_id", ""))
                child.parent_id = None
                self.records.changed(child)

    def _parent_incident(self, incident_id: str) -> Record | None:
        """A live Level 2 incident this device may see, or None: unknown and out-of-scope ids
        look the same, so a link never reveals whether an id exists (no existence oracle)."""
        parent = self.records.get(incident_id)
        if parent is None or parent.tombstone or parent.kind != "incident":
            return None
        if parent.student_id is None or not self._in_scope(parent.student_id):
            return None
        return parent

    def _check_student(self, student_id: str) -> None:
        if not self._in_scope(student_id):
            raise Rejection(f"student {student_id} is not in this device's scope")

    def _in_scope(self, student_id: str) -> bool:
        if student_id not in self.scope:
            if self.device.role == "classroom":
                found = students_in_scope(self.connection, self.device, [student_id])
                self.scope[student_id] = student_id in found
            else:
                self.scope[student_id] = school_scope_allows(
                    self.device,
                    self.records.school_of(student_id),
                    not self.records.student_known(student_id),
                )
        return self.scope[student_id]

    def _create(
        self, op: PushOp, fields: dict[str, JsonValue], tombstone: Record | None
    ) -> OpResult:
        if tombstone is not None and op.hlc <= (tombstone.tombstone_hlc or ""):
            return _superseded(op, "the record was retracted after this change")
        missing = missing_fields(op.kind, fields)
        if missing:
            raise Rejection(
                f"a new {op.kind} record needs {', '.join(missing)}: send the whole record",
                retry=tombstone is None,
            )
        reason: str | None = None
        parent_id: str | None = None
        if op.kind == "incident" and fields.get("level") != 2:
            raise Rejection("only Level 2 incidents are kept by the server")
        if op.kind == "follow_up":
            parent = self._parent_incident(str(fields["incident_id"]))
            if parent is None or parent.student_id is None:
                raise Rejection("the follow-up's incident is not a Level 2 record on the server")
            student_id = parent.student_id
            parent_id = parent.id
        else:
            student_id = str(fields["student_id"])
        self._check_student(student_id)
        self._check_plan(op.kind, fields, student_id)
        if op.kind == "tab":
            parent_id, reason = self._tab_link(fields, student_id)
        if op.kind == "intervention":
            parent_id = self._intervention_link(fields, student_id)
        record = tombstone or Record(
            id=op.id,
            kind=op.kind,
            owner_device_id=self.device.id,
            school_id=None,
            student_id=None,
            parent_id=None,
            level=None,
            fields={},
            field_hlc={},
            tombstone=False,
            tombstone_hlc=None,
            cursor=0,
        )
        record.tombstone = False
        record.student_id = student_id
        record.school_id = self.records.school_of(student_id)
        record.parent_id = parent_id
        record.level = 2 if op.kind == "incident" else None
        record.fields = fields
        record.field_hlc = dict.fromkeys(fields, op.hlc)
        if tombstone is None:
            self.records.add(record)
        else:
            self.records.changed(record)
        return _applied(op, reason)

    def _check_plan(self, kind: str, fields: dict[str, JsonValue], student_id: str) -> None:
        """Invariant 8: the record as it would stand breaks none of the plan's rules."""
        try:
            if kind == "incident":
                self.plan.check_incident(fields, student_id)
            elif kind == "office_referral":
                self.plan.check_referral(fields, student_id)
            elif kind == "intervention":
                self.plan.check_intervention(fields)
        except RuleViolation as violation:
            raise Rejection(refusal_words(violation)) from None

    def _intervention_link(self, fields: dict[str, JsonValue], student_id: str) -> str | None:
        """An intervention answers, if anything, a Level 2 record of its own student (and
        behavior) that the server holds and this device may see. Any other link is refused:
        an intervention answering a Level 1 record never leaves its device (R1)."""
        incident_id = fields.get("incident_id")
        if incident_id is None:
            return None
        parent = self._parent_incident(str(incident_id))
        code = fields.get("behavior_code")
        if (
            parent is None
            or parent.student_id != student_id
            or (code is not None and parent.fields.get("behavior_code") != code)
        ):
            raise Rejection(
                "the intervention's record is not a Level 2 record of this student and behavior"
                " on the server"
            )
        return parent.id

    def _tab_link(
        self, fields: dict[str, JsonValue], student_id: str | None
    ) -> tuple[str | None, str | None]:
        """A TAB may link only to a Level 2 incident of its own student that the server holds
        and this device may see; any other link is dropped with the same answer (it may point
        at a Level 1 record, which must not be named off the device, or at a record the device
        must not learn exists)."""
        incident_id = fields.get("incident_id")
        if incident_id is None:
            return None, None
        parent = self._parent_incident(str(incident_id))
        if parent is None or parent.student_id != student_id:
            fields["incident_id"] = None
            return None, TAB_LINK_DROPPED
        return str(incident_id), None

    def _update(self, op: PushOp, incoming: dict[str, JsonValue], record: Record) -> OpResult:
        reason: str | None = None
        linked = record.fields.get("incident_id")
        if record.kind in ("follow_up", "intervention") and (
            incoming.get("incident_id", linked) != linked
        ):
            raise Rejection(f"a {record.kind.replace('_', '-')} cannot move to another incident")
        if record.kind == "tab" and "incident_id" in incoming:
            student = incoming.get("student_id", record.student_id)
            _, reason = self._tab_link(incoming, student if isinstance(student, str) else None)
        if record.student_id is not None:
            self._check_student(record.student_id)
        new_student = incoming.get("student_id")
        if record.kind != "follow_up" and new_student not in (None, record.student_id):
            self._check_student(str(new_student))
        outcome = merge(record, incoming, op.hlc)
        if outcome.won:
            after = {**record.fields, **outcome.won}
            self._check_plan(record.kind, after, str(after.get("student_id") or record.student_id))
        self.records.audit(record.id, outcome, op.hlc, written_by=self.device.id)
        if not outcome.won:
            return _superseded(op, "every field has a newer value on the server")
        move_student(self.records, record, outcome.won.get("student_id"))
        if record.kind == "tab" and "incident_id" in outcome.won:
            linked = outcome.won["incident_id"]
            record.parent_id = None if linked is None else str(linked)
        apply_merge(record, outcome)
        self.records.changed(record)
        return _applied(op, reason)


def missing_fields(kind: str, fields: dict[str, JsonValue]) -> list[str]:
    """What a new record of ``kind`` lacks of what every device needs to hold it."""
    return sorted(name for name in REQUIRED_ON_CREATE[kind] if fields.get(name) is None)


def apply_push(
    engine: Engine,
    device: Device,
    request: PushRequest,
    clock: ServerClock,
    on_commit: Callable[[], None] | None = None,
) -> PushResponse:
    """Apply a whole push in one transaction and answer it."""
    now_ms = clock.now_ms()
    now = clock.now()
    with write_transaction(engine) as tx:
        push = _Push(tx, device, now, now_ms, request.ops)
        results = [push.apply(op) for op in request.ops]
        push.flush()
        devices = tables.devices
        tx.connection.execute(
            sa.update(devices).where(devices.c.id == device.id).values(last_seen_at=now)
        )
        if push.retracted:
            tx.after_commit.append(lambda: checkpoint_sqlite(engine))
        if on_commit is not None and tx.last_cursor != tx.base_cursor:
            tx.after_commit.append(on_commit)
    server_hlc = clock.after() if push.latest is None else clock.after(push.latest)
    return PushResponse(results=results, server_time=clock.now(), server_hlc=server_hlc.encode())
