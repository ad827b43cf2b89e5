"""Administrators' corrections of synced records: the edit is stamped with the server's clock,
later than every value it replaces, so it wins the per-field merge and flows back to every
device on its next pull. The replaced values stay in the audit with the reason given."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import JsonValue
from sqlalchemy.engine import Engine

from district.clock import ServerClock
from district.db import grid_behavior_codes, write_transaction
from district.devices import get_device
from district.plan_rules import PlanChecker, refusal_words
from district.records import Record, RecordSet, apply_merge, merge, move_student
from district.scope import Device, students_in_scope
from schema.clock import Timestamp
from schema.contract import ContractError, check_fields
from schema.errors import UserError
from schema.rules import RuleViolation
from schema.wire import FIELDS_BY_KIND

FIXED_FIELDS = frozenset({"device_id", "incident_id"})
"""Fields a correction may not change: who wrote a record, and which incident a child
belongs to."""


class CorrectionError(UserError, ValueError):
    """A correction that cannot be made; ``status_code`` says how the API answers it."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def _check_void(record: Record, fields: Mapping[str, JsonValue]) -> None:
    """Voids win everywhere (DESIGN section 5), so a correction that would undo one could never
    reach the devices: refused. A void carries its reason, and a reason needs a void."""
    voided = record.fields.get("voided_at") is not None
    will_be_voided = fields["voided_at"] is not None if "voided_at" in fields else voided
    has_reason = "void_reason" in FIELDS_BY_KIND[record.kind]
    if voided and not will_be_voided:
        raise CorrectionError(
            "a voided record stays voided: voids cannot be undone (log a new record instead)",
            409,
        )
    if not has_reason:
        return
    reason = fields["void_reason"] if "void_reason" in fields else record.fields.get("void_reason")
    if will_be_voided and not reason:
        raise CorrectionError("a voided record keeps a void_reason: give the corrected one", 422)
    if not will_be_voided and "void_reason" in fields and fields["void_reason"] is not None:
        raise CorrectionError("void_reason goes with voided_at: set both to void the record", 422)


def correct_record(
    engine: Engine,
    admin: Device,
    record_id: str,
    fields: Mapping[str, JsonValue],
    reason: str,
    clock: ServerClock,
) -> Record:
    """Apply an administrator's correction to a live record in the admin's scope."""
    now = clock.now()
    with write_transaction(engine) as tx:
        records = RecordSet(tx, now)
        record = records.get(record_id)
        if record is None or record.tombstone or record.student_id is None:
            raise CorrectionError(f"no record {record_id}", 404)
        if not students_in_scope(tx.connection, admin, [record.student_id]):
            raise CorrectionError(f"no record {record_id}", 404)
        unknown = sorted(set(fields) - FIELDS_BY_KIND[record.kind])
        if unknown:
            raise CorrectionError(f"unknown fields for {record.kind}: {', '.join(unknown)}", 422)
        fixed = sorted(set(fields) & FIXED_FIELDS)
        if fixed:
            raise CorrectionError(f"a correction cannot change {', '.join(fixed)}", 422)
        codes = grid_behavior_codes(tx.connection) if "behavior_code" in fields else None
        try:
            fields = check_fields(record.kind, fields, behavior_codes=codes)
        except ContractError as error:
            raise CorrectionError(str(error), 422) from None
        _check_void(record, fields)
        if record.kind == "incident" and "level" in fields and fields["level"] != 2:
            raise CorrectionError(
                "the server keeps Level 2 records only: a Level 1 record never leaves its device",
                422,
            )
        new_student = fields.get("student_id")
        moves = new_student is not None and new_student != record.student_id
        if moves and not students_in_scope(tx.connection, admin, [str(new_student)]):
            raise CorrectionError(f"student {new_student} is not in your scope", 422)
        owner = get_device(tx.connection, record.owner_device_id)
        if moves and (
            owner is None or not students_in_scope(tx.connection, owner, [str(new_student)])
        ):
            raise CorrectionError(
                f"student {new_student} is outside the owning device's scope: it could not"
                " hold its own record (void this one and log a new one for that student)",
                422,
            )
        stamps = [Timestamp.decode(hlc) for hlc in record.field_hlc.values()]
        hlc = clock.after(*stamps).encode()
        outcome = merge(record, fields, hlc)
        if not outcome.won:
            raise CorrectionError("nothing to change", 409)
        if record.kind == "incident":
            after = {**record.fields, **outcome.won}
            try:
                PlanChecker(tx.connection).check_incident(
                    after, str(after.get("student_id") or record.student_id)
                )
            except RuleViolation as violation:
                raise CorrectionError(refusal_words(violation), 422) from None
        records.audit(record.id, outcome, hlc, written_by=f"admin:{admin.id}", reason=reason)
        if record.kind != "follow_up":
            move_student(records, record, outcome.won.get("student_id"))
        apply_merge(record, outcome)
        records.changed(record)
        records.flush()
    return record
