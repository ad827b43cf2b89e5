"""The sync protocol's two endpoints (DESIGN section 5)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from district.deps import DeviceDep, DistrictDep, bearer, still_authorized
from district.pull import Page, read_page
from district.push import apply_push
from district.routes import ERROR_RESPONSES
from district.scope import Device
from district.state import District
from district.support import expire_stale
from schema.wire import (
    MAX_PULL_LIMIT,
    MAX_PULL_WAIT_SECONDS,
    PROTOCOL_VERSION,
    PullResponse,
    PushRequest,
    PushResponse,
)

router = APIRouter(prefix="/v1/sync", tags=["sync"])

DEFAULT_PULL_LIMIT = 500
MAX_CURSOR = 2**62


PUSH_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
    }
}
"""The push body, documented by hand: the route parses it itself (see ``push``)."""


async def _push_request(request: Request) -> PushRequest:
    """The body parsed straight from its bytes: pydantic's JSON parser is several times faster
    than ``json.loads`` followed by validation, which matters for 500-op pushes."""
    try:
        return PushRequest.model_validate_json(await request.body())
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(
            [{**problem, "loc": ("body", *problem["loc"])} for problem in problems]
        ) from error


@router.post(
    "/push",
    response_model=PushResponse,
    responses={**ERROR_RESPONSES, 400: ERROR_RESPONSES[422]},
    openapi_extra=PUSH_REQUEST_BODY,
)
async def push(request: Request, device: DeviceDep, district: DistrictDep) -> Response:
    """Apply ordered ops in one transaction; one result per op."""
    body = await _push_request(request)
    if body.device_id != device.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "device_id is not the token's device")
    if body.protocol != PROTOCOL_VERSION:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"protocol {body.protocol} is not supported: this server speaks {PROTOCOL_VERSION}",
        )
    answer = await run_in_threadpool(
        apply_push, district.engine, device, body, district.clock, district.notifier.notify
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get("/pull", response_model=PullResponse, responses=ERROR_RESPONSES)
async def pull(
    request: Request,
    device: DeviceDep,
    district: DistrictDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cursor: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
    wait: Annotated[float, Query(ge=0, le=MAX_PULL_WAIT_SECONDS)] = 0,
) -> Response:
    """Changes in the device's scope after ``cursor``. With ``wait``, an empty answer is held
    up to that many seconds until something arrives. A long-poll re-checks its token after
    every wait, so a device revoked (or re-enrolled under a new token) meanwhile gets a 401,
    never a change made after it."""
    assert credentials is not None
    deadline = time.monotonic() + wait
    interval = district.settings.long_poll_db_interval_seconds
    waited = False
    while True:
        changed = district.notifier.current()
        await _expire_stale_requests(district)
        token = credentials.credentials if waited else None
        page = await run_in_threadpool(_read_checked, district, device, cursor, limit, token)
        remaining = deadline - time.monotonic()
        if page.changes or remaining <= 0 or await request.is_disconnected():
            answer = PullResponse.model_construct(
                changes=page.changes,
                cursor=page.cursor,
                has_more=page.has_more,
                server_time=district.clock.now(),
            )
            return Response(answer.model_dump_json(), media_type="application/json")
        cursor = page.cursor
        await district.notifier.wait(changed, min(interval, remaining))
        waited = True


def _read_checked(
    district: District, device: Device, cursor: int, limit: int, token: str | None
) -> Page:
    """A page, then (after a wait) the token checked again: one trip to the thread pool, so a
    change that wakes hundreds of long-polls queues half as many jobs. The check comes after
    the read, so a device revoked before it answers never gets the page."""
    page = read_page(district.engine, device, cursor, limit)
    if token is not None:
        still_authorized(district, token)
    return page


async def _expire_stale_requests(district: District) -> None:
    """Close support requests nobody took in time (at most every few seconds per process)."""
    if not district.support_sweeper.due():
        return
    closed = await run_in_threadpool(
        expire_stale,
        district.engine,
        district.clock,
        override_minutes=district.settings.support_request_expiry_minutes,
    )
    if closed:
        district.notifier.notify()
