"""The office's decision on an office referral (R10), recorded by an administrator on the server.

A referral arrives from the referring device like a Level 2 record. The decision (the level the
office used, 3 to 5; days of Out-of-School Suspension; alternatives to suspension offered) is
written here, stamped with the server's clock so it wins the per-field merge and flows back to
the referring device on its next pull. The plan's rules on the decision (``schema.rules``) are
checked against the grid in force for the referral's school year and the student's grade band;
a broken one is refused by its name and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import JsonValue
from sqlalchemy.engine import Engine

from district.clock import ServerClock
from district.db import write_transaction
from district.plan_rules import PlanChecker, refusal_words
from district.records import Record, RecordSet, apply_merge, merge
from district.scope import Device, students_in_scope
from schema.clock import Timestamp
from schema.contract import ContractError, canonical_moment, check_fields
from schema.errors import UserError
from schema.rules import RuleViolation, check_decision

COMMAND_LINE_WRITER = "admin:command line"


class ReferralError(UserError, ValueError):
    """A decision that cannot be recorded; ``status_code`` says how the API answers it."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class Decision:
    level: int
    oss_days: float = 0.0
    alternatives: tuple[str, ...] = ()

    def fields(self, decided_at: str) -> dict[str, JsonValue]:
        offered = [" ".join(text.split()) for text in self.alternatives]
        return {
            "decided_level": self.level,
            "oss_days": float(self.oss_days),
            "alternatives": [text for text in offered if text] or None,
            "decided_at": decided_at,
        }


def decide_referral(
    engine: Engine,
    admin: Device | None,
    referral_id: str,
    decision: Decision,
    clock: ServerClock,
) -> Record:
    """Record the office's decision on a live referral in ``admin``'s scope (the whole district
    for the command line, ``admin`` None). Raises ReferralError: 404 for a referral the admin
    cannot see (unknown and out-of-scope look the same), 409 for a voided one, 422 naming the
    rule or field for a decision the plan does not allow."""
    now = clock.now()
    with write_transaction(engine) as tx:
        records = RecordSet(tx, now)
        record = records.get(referral_id)
        missing = ReferralError(f"no office referral {referral_id}", 404)
        if record is None or record.kind != "office_referral" or record.tombstone:
            raise missing
        if record.student_id is None:
            raise missing
        if admin is not None and not students_in_scope(tx.connection, admin, [record.student_id]):
            raise missing
        if record.fields.get("voided_at") is not None:
            raise ReferralError("the referral was voided by the staff member who sent it", 409)
        try:
            entry = PlanChecker(tx.connection).entry(record.fields, record.student_id)
            check_decision(entry, decision.level, decision.oss_days, decision.alternatives)
        except RuleViolation as violation:
            raise ReferralError(refusal_words(violation), 422) from None
        try:
            fields = check_fields("office_referral", decision.fields(canonical_moment(now)))
        except ContractError as error:
            raise ReferralError(str(error), 422) from None
        stamps = [Timestamp.decode(hlc) for hlc in record.field_hlc.values()]
        hlc = clock.after(*stamps).encode()
        outcome = merge(record, fields, hlc)
        writer = COMMAND_LINE_WRITER if admin is None else f"admin:{admin.id}"
        records.audit(record.id, outcome, hlc, written_by=writer, reason="the office's decision")
        apply_merge(record, outcome)
        records.changed(record)
        records.flush()
    return record
