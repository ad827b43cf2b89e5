"""The summaries API as the dashboard uses it: one HTTP client with the device's admin token.

Only the dashboard's screens import this module (and with it httpx); every failure becomes a
:class:`FetchError` whose message says, in words, why nothing new could be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from schema.errors import ClasslogError
from tui.admin.connection import AdminConnection

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class FetchError(ClasslogError):
    """A request that brought nothing new; ``str()`` is the reason, for the screen."""

    def __init__(self, reason: str, *, offline: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offline = offline


@dataclass(frozen=True, slots=True)
class Fetched:
    """A report's JSON and when it arrived."""

    data: dict[str, Any]
    fetched_at: datetime


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", detail[0]))
    return response.reason_phrase or f"HTTP {response.status_code}"


def _refusal(response: httpx.Response) -> FetchError:
    status = response.status_code
    detail = _detail(response)
    if status == 401:
        return FetchError(f"the server refused this device's token ({detail}): enroll it again")
    if status == 403:
        return FetchError(f"not allowed for this device: {detail}")
    if status == 404:
        return FetchError(f"the server has no such thing: {detail}")
    if status == 422:
        return FetchError(f"the server refused the filters: {detail}")
    if status == 429:
        wait = response.headers.get("Retry-After", "a few")
        return FetchError(f"the server is busy: try again in {wait} s")
    return FetchError(f"the server failed (HTTP {status}): {detail}")


class SummariesClient:
    """GET requests to one district server with one admin token."""

    def __init__(
        self, connection: AdminConnection, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.server_url = connection.server_url
        self._client = httpx.AsyncClient(
            base_url=connection.server_url,
            headers={"Authorization": f"Bearer {connection.token}"},
            timeout=TIMEOUT,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        try:
            response = await self._client.get(path, params=params)
        except httpx.ConnectError:
            raise FetchError(
                f"cannot reach the server at {self.server_url} (offline, or the server is down)",
                offline=True,
            ) from None
        except httpx.TimeoutException:
            raise FetchError(
                f"the server at {self.server_url} did not answer in time", offline=True
            ) from None
        except httpx.HTTPError as error:
            raise FetchError(
                f"the connection to {self.server_url} failed: {error}", offline=True
            ) from None
        if response.status_code != 200:
            raise _refusal(response)
        try:
            return response.json()
        except ValueError:
            raise FetchError("the server's answer was not JSON") from None

    async def report(self, report: str, params: dict[str, str]) -> dict[str, Any]:
        """One summary report as JSON (``GET /v1/summaries/{report}``)."""
        data = await self._get(f"/v1/summaries/{report}", {**params, "format": "json"})
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise FetchError(f"the server's {report} report has no rows")
        return data

    async def records(self, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        """The Level 2 records behind a drill-down (``GET /v1/summaries/records``), newest
        first, and how many there are in all (the list stops at the server's limit)."""
        data = await self._get("/v1/summaries/records", params)
        rows = data.get("rows") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise FetchError("the server's record list was not a list")
        total = data.get("total") if isinstance(data.get("total"), int) else len(rows)
        return [row for row in rows if isinstance(row, dict)], int(total)

    async def schools(self) -> list[tuple[str, str]]:
        """The schools this device's scope has devices in (``GET /v1/admin/devices``), each
        with its name from the roster (``GET /v1/admin/schools``; the id where the server
        names none), by name: the choices of the school filter."""
        data = await self._get("/v1/admin/devices", {})
        if not isinstance(data, list):
            return []
        ids = {
            str(device["school_id"])
            for device in data
            if isinstance(device, dict)
            and device.get("school_id")
            and not device.get("district_scope")
        }
        names: dict[str, str] = {}
        try:
            listed = await self._get("/v1/admin/schools", {})
        except FetchError as error:
            if error.offline:
                raise
            listed = []
        for school in listed if isinstance(listed, list) else []:
            if isinstance(school, dict) and school.get("id") in ids and school.get("name"):
                names[str(school["id"])] = str(school["name"])
        return sorted(((school, names.get(school, school)) for school in ids), key=_by_name)

    async def record(self, record_id: str) -> dict[str, Any]:
        """One record, read-only (``GET /v1/admin/records/{id}``)."""
        data = await self._get(f"/v1/admin/records/{record_id}", {})
        if not isinstance(data, dict):
            raise FetchError("the server's record was not an object")
        return data


def _by_name(school: tuple[str, str]) -> tuple[str, str]:
    return (school[1].casefold(), school[0])
