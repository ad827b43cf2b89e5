"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection

from district.db import read_transaction
from district.devices import device_for_token
from district.scope import Device
from district.state import District

bearer = HTTPBearer(
    auto_error=False,
    description="The token a device received from POST /v1/devices/enroll.",
)


def get_district(request: Request) -> District:
    district: District = request.app.state.district
    return district


DistrictDep = Annotated[District, Depends(get_district)]


def get_connection(district: DistrictDep) -> Iterator[Connection]:
    with district.engine.connect() as connection:
        yield connection


ConnectionDep = Annotated[Connection, Depends(get_connection)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _limit(district: District, key: str) -> None:
    retry_after = district.limiter.retry_after(key)
    if retry_after is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many requests: retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def still_authorized(district: District, token: str) -> Device:
    """The device holding ``token`` now, or a 401: a revoked device, or a token replaced by a
    re-enrollment, is refused from this moment on."""
    with read_transaction(district.engine) as connection:
        device = device_for_token(connection, token)
    if device is None:
        raise _unauthorized("unknown token")
    if device.revoked_at is not None:
        raise _unauthorized("this device's token was revoked")
    return device


def authenticated_device(
    district: DistrictDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Device:
    """The device whose bearer token came with the request: looked up on every request, so a
    revocation takes effect at once; then rate-limited per device."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    device = still_authorized(district, credentials.credentials)
    _limit(district, f"device:{device.id}")
    return device


DeviceDep = Annotated[Device, Depends(authenticated_device)]


def authenticated_admin(device: DeviceDep) -> Device:
    if not device.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "administrators only")
    return device


AdminDep = Annotated[Device, Depends(authenticated_admin)]


def address_rate_limit(request: Request, district: DistrictDep) -> None:
    """Rate limit for requests without a token (enrollment), per client address."""
    client = request.client.host if request.client is not None else "unknown"
    _limit(district, f"address:{client}")


AddressLimitDep = Annotated[None, Depends(address_rate_limit)]


def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare (strict validation, as for bodies):
    a misspelt filter must not silently widen an answer."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = _query_names(route.dependant)
    unknown = sorted(set(request.query_params.keys()) - declared)
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown query parameter {unknown[0]!r}"
        )


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names
