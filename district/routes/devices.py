"""Enrollment: a device trades a single-use code for its token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials

from district.deps import AddressLimitDep, DeviceDep, DistrictDep, bearer
from district.devices import EnrollmentRefused, enroll
from district.routes import ERROR_RESPONSES
from district.routes.models import DeviceOut
from schema.wire import EnrollRequest, EnrollResponse

router = APIRouter(prefix="/v1/devices", tags=["devices"])


@router.post(
    "/enroll",
    response_model=EnrollResponse,
    responses={**ERROR_RESPONSES, 409: ERROR_RESPONSES[403]},
    openapi_extra={"security": [{}]},
)
def enroll_device(
    body: EnrollRequest,
    district: DistrictDep,
    _limit: AddressLimitDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> EnrollResponse:
    """Consume an enrollment code; answers the token (shown once, stored hashed) and the
    device's role and scope. An id already enrolled re-enrolls only with its current token as
    the bearer token, or with a code an administrator re-issued for it; otherwise 409."""
    current_token = credentials.credentials if credentials is not None else None
    try:
        enrolled = enroll(district.engine, body, district.clock.now(), current_token)
    except EnrollmentRefused as refusal:
        raise HTTPException(refusal.status_code, str(refusal)) from refusal
    district.notifier.notify()
    return enrolled


@router.get("/me", response_model=DeviceOut, responses=ERROR_RESPONSES)
def who_am_i(device: DeviceDep, district: DistrictDep) -> DeviceOut:
    """The calling device as the server knows it (a cheap token check)."""
    return DeviceOut.of(device)
