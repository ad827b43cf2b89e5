"""The district server's state as its HTTP API shows it, for tests on either side of the wire.

Tests check what the server holds through what the server says (an administrator's pull, a
record with its audit, the exports), never through its tables, so they keep checking the same
thing however the server stores records.

- ``read_state`` / ``read_state_sync``: every incident, TAB and follow-up in an administrator's
  scope, by pulling from cursor 0: the live ones with their fields and per-field clocks, and the
  ones that arrived as removals (retracted: the server keeps only a content-free tombstone).
- ``record_detail`` / ``record_detail_sync``: one record with the values that lost a merge, or
  None when the server shows no such live record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

SYNCED_KINDS = ("incident", "tab", "follow_up", "intervention", "office_referral")
PAGE = 1000


@dataclass(frozen=True)
class Held:
    """One live record as the server sends it."""

    kind: str
    fields: dict[str, Any]
    field_hlc: dict[str, str]


@dataclass
class ServerState:
    live: dict[str, Held] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    """Record id -> kind, for every record whose last change was a removal."""
    cursor: int = 0
    changes: int = 0
    """How many record changes the pull carried (a record changed twice between two reads of
    the same cursor still appears once)."""

    def fields(self, record_id: str) -> dict[str, Any]:
        return self.live[record_id].fields

    def of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        return {key: held.fields for key, held in self.live.items() if held.kind == kind}

    def flat(self) -> dict[str, dict[str, Any]]:
        """Record id -> {"kind": kind, **fields}, for every live record."""
        return {key: {"kind": held.kind, **held.fields} for key, held in self.live.items()}


def apply_changes(state: ServerState, changes: Iterable[dict[str, Any]]) -> None:
    for change in changes:
        if change["kind"] not in SYNCED_KINDS:
            continue
        state.changes += 1
        record_id = change["id"]
        if change["op"] == "upsert":
            state.removed.pop(record_id, None)
            state.live[record_id] = Held(
                change["kind"], dict(change["fields"]), dict(change.get("field_hlc") or {})
            )
        else:
            state.live.pop(record_id, None)
            state.removed[record_id] = change["kind"]


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _checked(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def read_state(http: httpx.AsyncClient, token: str, cursor: int = 0) -> ServerState:
    """Everything after ``cursor`` that ``token``'s device may see, through the pull API."""
    state = ServerState(cursor=cursor)
    while True:
        page = _checked(
            await http.get(
                "/v1/sync/pull",
                params={"cursor": state.cursor, "limit": PAGE},
                headers=_headers(token),
            )
        )
        apply_changes(state, page["changes"])
        state.cursor = page["cursor"]
        if not page["has_more"]:
            return state


def read_state_sync(base_url: str, token: str, cursor: int = 0) -> ServerState:
    state = ServerState(cursor=cursor)
    with httpx.Client(base_url=base_url, headers=_headers(token), timeout=60) as client:
        while True:
            page = _checked(
                client.get("/v1/sync/pull", params={"cursor": state.cursor, "limit": PAGE})
            )
            apply_changes(state, page["changes"])
            state.cursor = page["cursor"]
            if not page["has_more"]:
                return state


def _detail(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code == 404:
        return None
    return _checked(response)


async def record_detail(
    http: httpx.AsyncClient, admin_token: str, record_id: str
) -> dict[str, Any] | None:
    """``GET /v1/admin/records/{id}``: fields, per-field clocks and superseded values."""
    return _detail(await http.get(f"/v1/admin/records/{record_id}", headers=_headers(admin_token)))


def record_detail_sync(base_url: str, admin_token: str, record_id: str) -> dict[str, Any] | None:
    with httpx.Client(base_url=base_url, headers=_headers(admin_token), timeout=60) as client:
        return _detail(client.get(f"/v1/admin/records/{record_id}"))


def superseded_values(detail: dict[str, Any] | None) -> set[tuple[str, Any]]:
    """(field, value) of every value that lost a merge on a record."""
    assert detail is not None
    return {(value["field"], _hashable(value["value"])) for value in detail["superseded"]}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    return value
