"""The daemon's HTTP side: push, pull and enroll, with every failure turned into a named error.

Each reply's ``server_time`` also yields an estimate of the server's clock minus ours (the
offset): the midpoint of the request for quick calls, the moment of receipt for a long-poll
(the server stamps its reply when the wait ends). Timeouts are explicit: connecting, and reading
(the long-poll's wait plus a margin). After any transport failure the connection pool is dropped,
so a half-dead keep-alive connection never hides a fault; ``keepalive=False`` forces a new
connection for every request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from schema.clock import WallClock, system_wall_ms
from schema.errors import ClasslogError
from schema.wire import (
    PROTOCOL_VERSION,
    EnrollRequest,
    EnrollResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 30.0
PROTOCOL_HEADER = "X-Classlog-Protocol"
NOT_ENROLLED_MESSAGE = "device not enrolled or revoked"

Model = TypeVar("Model", bound=BaseModel)


class SyncError(ClasslogError):
    """A sync attempt that did not complete. ``online`` says whether the server answered."""

    online = False
    retry_after: float | None = None

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retry_after is not None:
            self.retry_after = retry_after


class OfflineError(SyncError):
    """No answer: connection refused or reset, DNS, a connect or read timeout."""


class ServerBusyError(SyncError):
    """429 or 503: the server asked us to come back later (``Retry-After``)."""

    online = True


class ServerError(SyncError):
    """A 5xx: the server failed; the request may or may not have been applied (pushes are
    idempotent, so sending it again is safe)."""

    online = True


class NotEnrolledError(SyncError):
    """401: the token is missing, unknown or revoked."""

    online = True


class ProtocolMismatchError(SyncError):
    """The server speaks a newer protocol, or answered with something this device cannot read."""

    online = True


class RequestRejectedError(SyncError):
    """A 4xx for the request as a whole (too large, malformed). ``status`` tells which."""

    online = True

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Timed:
    """A reply with what it tells about the clocks."""

    server_time: datetime
    sent_ms: int
    received_ms: int
    long_poll: bool

    @property
    def server_ms(self) -> int:
        return int(self.server_time.timestamp() * 1000)

    @property
    def offset_ms(self) -> int:
        """The server's time minus ours."""
        local = self.received_ms if self.long_poll else (self.sent_ms + self.received_ms) // 2
        return self.server_ms - local


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - datetime.now(tz=moment.tzinfo).timestamp())


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        if isinstance(detail, str):
            return detail[:300]
        return str(detail)[:300]
    return str(body)[:200]


def _newer_server(response: httpx.Response, detail: str) -> bool:
    if response.status_code == 426:
        return True
    header = response.headers.get(PROTOCOL_HEADER, "")
    if header.isdigit() and int(header) > PROTOCOL_VERSION:
        return True
    return response.status_code in (400, 409, 422) and "protocol" in detail.lower()


def raise_for_reply(response: httpx.Response) -> None:
    """Turn a non-2xx reply into the matching ``SyncError``."""
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response)
    if status == 401:
        raise NotEnrolledError(NOT_ENROLLED_MESSAGE)
    if _newer_server(response, detail):
        raise ProtocolMismatchError(
            f"the server speaks a newer sync protocol than this device ({detail}): "
            "update classlog on this device"
        )
    if status in (429, 503):
        raise ServerBusyError(
            f"server busy ({status}): {detail}", retry_after=_retry_after(response)
        )
    if status >= 500:
        raise ServerError(f"server error {status}: {detail}", retry_after=_retry_after(response))
    raise RequestRejectedError(f"request refused ({status}): {detail}", status)


def parse_reply(model: type[Model], response: httpx.Response) -> Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ProtocolMismatchError(
            f"the server's reply was not understood ({where}: {first['msg']}); "
            "is the server newer than this device? update classlog"
        ) from error


class SyncClient:
    """Talks to one district server as one enrolled device."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str | None] | str | None,
        *,
        http: httpx.AsyncClient | None = None,
        wall: WallClock = system_wall_ms,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        keepalive: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.wall = wall
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.keepalive = keepalive
        self._owns_http = http is None
        self._http = http or self._new_http()

    def _new_http(self) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=4, max_keepalive_connections=2 if self.keepalive else 0
        )
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(
                self.read_timeout, connect=self.connect_timeout, pool=self.connect_timeout
            ),
            limits=limits,
            headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
            trust_env=False,
        )

    def token(self) -> str | None:
        return self._token() if callable(self._token) else self._token

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _reset_pool(self) -> None:
        if self._owns_http:
            await self._http.aclose()
            self._http = self._new_http()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        read_timeout: float | None = None,
        authorized: bool = True,
    ) -> tuple[httpx.Response, int, int]:
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if authorized:
            token = self.token()
            if not token:
                raise NotEnrolledError(NOT_ENROLLED_MESSAGE)
            headers["Authorization"] = f"Bearer {token}"
        if not self.keepalive:
            headers["Connection"] = "close"
        timeout = httpx.Timeout(
            read_timeout or self.read_timeout,
            connect=self.connect_timeout,
            pool=self.connect_timeout,
        )
        sent = self.wall()
        try:
            response = await self._http.request(
                method,
                self.base_url + path,
                json=json_body,
                content=content,
                params=params,
                headers=headers,
                timeout=timeout,
            )
        except httpx.TimeoutException as error:
            await self._reset_pool()
            raise OfflineError(
                f"timed out talking to {self.base_url}: {type(error).__name__}"
            ) from None
        except httpx.TransportError as error:
            await self._reset_pool()
            reason = str(error) or type(error).__name__
            raise OfflineError(f"cannot reach {self.base_url}: {reason}") from None
        return response, sent, self.wall()

    async def push(self, request: PushRequest) -> tuple[PushResponse, Timed]:
        body = request.model_dump_json().encode("utf-8")
        response, sent, received = await self._request("POST", "/v1/sync/push", content=body)
        raise_for_reply(response)
        reply = parse_reply(PushResponse, response)
        return reply, Timed(reply.server_time, sent, received, long_poll=False)

    async def pull(self, cursor: int, limit: int, wait: float = 0) -> tuple[PullResponse, Timed]:
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if wait > 0:
            params["wait"] = int(wait)
        response, sent, received = await self._request(
            "GET",
            "/v1/sync/pull",
            params=params,
            read_timeout=self.read_timeout + max(0.0, wait),
        )
        raise_for_reply(response)
        reply = parse_reply(PullResponse, response)
        return reply, Timed(reply.server_time, sent, received, long_poll=wait > 0)

    async def enroll(self, request: EnrollRequest) -> tuple[EnrollResponse, Timed]:
        """Trade a code for a token. A device already enrolled with this server sends its
        current token too: the server re-enrolls an existing device id only with it."""
        response, sent, received = await self._request(
            "POST",
            "/v1/devices/enroll",
            content=request.model_dump_json().encode("utf-8"),
            authorized=self.token() is not None,
        )
        raise_for_reply(response)
        reply = parse_reply(EnrollResponse, response)
        return reply, Timed(reply.server_time, sent, received, long_poll=False)
