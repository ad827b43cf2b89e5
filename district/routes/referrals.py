"""Office referrals (R10): an administrator records the office's decision. A school's admin
decides that school's referrals only; another school's look like no referral at all."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import Field

from district.deps import AdminDep, DistrictDep
from district.referrals import Decision, ReferralError, decide_referral
from district.routes import ERROR_RESPONSES
from district.routes.models import RecordOut, StrictModel
from schema.contract import MAX_ALTERNATIVES, MAX_OSS_DAYS

router = APIRouter(prefix="/v1/admin/referrals", tags=["admin"], responses=ERROR_RESPONSES)


class DecisionIn(StrictModel):
    level: int = Field(description="the level the office used: 3, 4 or 5")
    oss_days: float = Field(
        default=0, ge=0, le=MAX_OSS_DAYS, description="days of Out-of-School Suspension"
    )
    alternatives: list[str] = Field(
        default_factory=list,
        max_length=MAX_ALTERNATIVES,
        description="alternatives to suspension offered, one short line each",
    )


@router.post(
    "/{referral_id}/decision",
    response_model=RecordOut,
    responses={404: ERROR_RESPONSES[403], 409: ERROR_RESPONSES[422]},
)
def decide(referral_id: str, body: DecisionIn, admin: AdminDep, district: DistrictDep) -> RecordOut:
    """Record the office's decision on a referral; it flows back to the referring device on its
    next pull. A decision the plan does not allow is refused (422) by the rule's name."""
    try:
        record = decide_referral(
            district.engine,
            admin,
            referral_id,
            Decision(body.level, body.oss_days, tuple(body.alternatives)),
            district.clock,
        )
    except ReferralError as error:
        raise HTTPException(error.status_code, str(error)) from error
    district.notifier.notify()
    return RecordOut.of(record)
