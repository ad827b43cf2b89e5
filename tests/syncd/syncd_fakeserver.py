"""A small in-memory district server that speaks the wire protocol, for the daemon's unit tests.

It keeps the rules the daemon depends on (DESIGN section 5): per-(device, op id) dedupe, clocks
more than 5 minutes ahead rejected with retry, Level 1 content refused, per-field last-writer-wins
by HLC with voids winning, retractions leaving a content-free tombstone that a stale push cannot
revive, server-assigned cursors, long-poll. It also records every request body it received, so a
test can search all of it for a Level 1 marker. Integration tests use the real ``district`` app.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from schema.clock import HybridClock, Timestamp, system_wall_ms
from schema.wire import (
    MAX_CLOCK_AHEAD_MS,
    Change,
    EnrollRequest,
    EnrollResponse,
    OpResult,
    OpStatus,
    PullResponse,
    PushRequest,
    PushResponse,
)

REQUIRED = {
    "incident": {"student_id", "staff_id", "device_id", "behavior_code", "level", "occurred_at"},
    "tab": {"student_id", "staff_id", "device_id", "kind", "started_by", "started_at"},
    "follow_up": {"incident_id", "kind", "created_at"},
}


@dataclass
class Held:
    kind: str
    id: str
    owner: str
    fields: dict[str, Any] = field(default_factory=dict)
    field_hlc: dict[str, str] = field(default_factory=dict)
    tombstone_hlc: str | None = None
    cursor: int = 0

    @property
    def tombstone(self) -> bool:
        return self.tombstone_hlc is not None and not self.fields


class FakeDistrict:
    """The server's state, reachable by tests (``records``, ``bodies``, ``correct``)."""

    def __init__(self, wall: Callable[[], int] = system_wall_ms) -> None:
        self.wall = wall
        self.clock = HybridClock("server", wall=lambda: self.wall())
        self.records: dict[str, Held] = {}
        self.roster: dict[tuple[str, str], tuple[int, dict[str, Any] | None]] = {}
        self.applied: dict[tuple[str, str], OpStatus] = {}
        self.tokens: dict[str, str] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.cursor = 0
        self.bodies: list[bytes] = []
        self.changed = asyncio.Event()
        self.fail_next: list[int] = []
        self.pushes = 0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall() / 1000, UTC)

    def _bump(self) -> int:
        self.cursor += 1
        self.changed.set()
        self.changed = asyncio.Event()
        return self.cursor

    def enrollment_code(self, role: str = "mobile", staff_id: str | None = None) -> str:
        code = secrets.token_hex(6)
        self.codes[code] = {"role": role, "staff_id": staff_id}
        return code

    def token_for(self, device_id: str) -> str:
        token = secrets.token_urlsafe(16)
        self.tokens[token] = device_id
        return token

    def revoke(self, device_id: str) -> None:
        for token, owner in list(self.tokens.items()):
            if owner == device_id:
                del self.tokens[token]

    def put_roster(self, kind: str, key: str, fields: dict[str, Any] | None) -> None:
        self.roster[(kind, key)] = (self._bump(), fields)

    def correct(self, record_id: str, fields: dict[str, Any]) -> str:
        """An administrator's correction, stamped with the server's clock."""
        held = self.records[record_id]
        stamp = self.clock.tick().encode()
        for name, value in fields.items():
            held.fields[name] = value
            held.field_hlc[name] = stamp
        held.cursor = self._bump()
        return stamp

    def live(self, kind: str | None = None) -> dict[str, Held]:
        return {
            key: held
            for key, held in self.records.items()
            if not held.tombstone and (kind is None or held.kind == kind)
        }

    def push(self, device_id: str, request: PushRequest) -> PushResponse:
        self.pushes += 1
        now_ms = self.wall()
        results = []
        for op in request.ops:
            key = (device_id, op.op_id)
            if key in self.applied:
                results.append(OpResult(op_id=op.op_id, status=OpStatus.DUPLICATE))
                continue
            result = self._apply(device_id, op, now_ms)
            if result.status is not OpStatus.REJECTED:
                self.applied[key] = result.status
                self.clock.receive(op.timestamp)
            results.append(result)
        return PushResponse(
            results=results, server_time=self.now(), server_hlc=self.clock.tick().encode()
        )

    def _apply(self, device_id: str, op: Any, now_ms: int) -> OpResult:
        def rejected(reason: str, retry: bool = False) -> OpResult:
            return OpResult(op_id=op.op_id, status=OpStatus.REJECTED, reason=reason, retry=retry)

        if op.timestamp.wall_ms - now_ms > MAX_CLOCK_AHEAD_MS:
            return rejected("clock ahead of the server by more than 5 minutes", retry=True)
        refusal = op.refusal()
        if refusal:
            return rejected(refusal)
        held = self.records.get(op.id)
        if held is not None and held.owner != device_id:
            return rejected("this record belongs to another device")
        if op.op == "retract":
            if held is None:
                held = Held(op.kind, op.id, device_id)
                self.records[op.id] = held
            if held.tombstone_hlc and op.hlc <= held.tombstone_hlc:
                return OpResult(op_id=op.op_id, status=OpStatus.SUPERSEDED)
            held.fields, held.field_hlc, held.tombstone_hlc = {}, {}, op.hlc
            if op.kind == "incident":
                for child in self.records.values():
                    if child.kind == "follow_up" and child.fields.get("incident_id") == op.id:
                        child.fields, child.field_hlc, child.tombstone_hlc = {}, {}, op.hlc
                        child.cursor = self._bump()
            held.cursor = self._bump()
            return OpResult(op_id=op.op_id, status=OpStatus.APPLIED)
        if held is None or held.tombstone:
            if held is not None and op.hlc <= (held.tombstone_hlc or ""):
                return OpResult(op_id=op.op_id, status=OpStatus.SUPERSEDED)
            missing = REQUIRED[op.kind] - set(op.fields)
            if missing:
                return rejected(f"a new record needs {', '.join(sorted(missing))}")
            if op.kind == "follow_up":
                parent = self.records.get(str(op.fields["incident_id"]))
                if parent is None or parent.tombstone:
                    return rejected("the follow-up's incident is not on the server")
            held = Held(op.kind, op.id, device_id, tombstone_hlc=held and held.tombstone_hlc)
            self.records[op.id] = held
        won = False
        for name, value in op.fields.items():
            if name in {"voided_at", "void_reason"} and held.fields.get("voided_at"):
                continue
            if op.hlc > held.field_hlc.get(name, ""):
                held.fields[name] = value
                held.field_hlc[name] = op.hlc
                won = True
        if not won:
            return OpResult(op_id=op.op_id, status=OpStatus.SUPERSEDED)
        held.cursor = self._bump()
        return OpResult(op_id=op.op_id, status=OpStatus.APPLIED)

    def page(self, after: int, limit: int) -> PullResponse:
        items: list[tuple[int, Change]] = []
        for held in self.records.values():
            if held.cursor > after:
                if held.tombstone:
                    change = Change(cursor=held.cursor, kind=held.kind, id=held.id, op="remove")  # type: ignore[arg-type]
                else:
                    change = Change(
                        cursor=held.cursor,
                        kind=held.kind,  # type: ignore[arg-type]
                        id=held.id,
                        op="upsert",
                        fields=held.fields,
                        field_hlc=held.field_hlc,
                    )
                items.append((held.cursor, change))
        for (kind, key), (at, fields) in self.roster.items():
            if at > after:
                op = "remove" if fields is None else "upsert"
                items.append(
                    (at, Change(cursor=at, kind=kind, id=key, op=op, fields=fields or {}))  # type: ignore[arg-type]
                )
        items.sort(key=lambda item: item[0])
        taken = items[:limit]
        has_more = len(items) > limit
        cursor = taken[-1][0] if has_more else self.cursor
        return PullResponse(
            changes=[change for _, change in taken],
            cursor=max(cursor, after),
            has_more=has_more,
            server_time=self.now(),
        )


def create_fake_app(district: FakeDistrict) -> FastAPI:
    app = FastAPI()

    def device_of(request: Request) -> str:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        device_id = district.tokens.get(token)
        if device_id is None:
            raise HTTPException(401, "device not enrolled or revoked")
        return device_id

    @app.post("/v1/devices/enroll")
    async def enroll(request: Request) -> EnrollResponse:
        body = await request.body()
        district.bodies.append(body)
        asked = EnrollRequest.model_validate_json(body)
        code = district.codes.pop(asked.code, None)
        if code is None:
            raise HTTPException(400, "unknown or used enrollment code")
        return EnrollResponse(
            device_id=asked.device_id,
            token=district.token_for(asked.device_id),
            school_id="school-1",
            role=code["role"],
            staff_id=code["staff_id"],
            section_ids=[],
            server_time=district.now(),
        )

    @app.post("/v1/sync/push")
    async def push(request: Request) -> JSONResponse:
        body = await request.body()
        district.bodies.append(body)
        device_id = device_of(request)
        if district.fail_next:
            status = district.fail_next.pop(0)
            return JSONResponse({"detail": "injected"}, status_code=status)
        parsed = PushRequest.model_validate_json(body)
        reply = district.push(device_id, parsed)
        return JSONResponse(json.loads(reply.model_dump_json()))

    @app.get("/v1/sync/pull")
    async def pull(request: Request, cursor: int = 0, limit: int = 1000, wait: int = 0) -> Any:
        district.bodies.append(str(request.url).encode())
        device_of(request)
        deadline = asyncio.get_running_loop().time() + wait
        while wait > 0 and district.cursor <= cursor:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(district.changed.wait(), remaining)
            except TimeoutError:
                break
        reply = district.page(cursor, limit)
        return JSONResponse(json.loads(reply.model_dump_json()))

    return app


def stamp(wall_ms: int, node: str = "admin") -> str:
    return Timestamp(wall_ms, 0, node).encode()
