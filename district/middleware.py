"""Request limits enforced before any route parses a byte: body size (413), text no database
can store (NUL characters, lone UTF-16 surrogates: 422) and JSON nested deeper than a parser
can follow (400), each with one clear detail and one log line (never the body)."""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL_DETAIL = "text must not contain NUL characters or unpaired surrogates"
NESTING_DETAIL = "the request body is not valid JSON: nested too deeply"

log = logging.getLogger("district.requests")


class BodyLimitMiddleware:
    """Refuses bodies larger than ``max_bytes``: at once when Content-Length says so, else while
    reading. The body is read here and replayed to the app, so a route never sees part of one.
    Also refuses text PostgreSQL and SQLite cannot store, in the path, query or JSON body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _reply(send, 413, f"request body larger than {self.max_bytes} bytes")
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _reply(send, 422, NUL_DETAIL)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _reply(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        refusal = _body_refusal(body)
        if refusal is not None:
            status, detail = refusal
            log.warning(
                "refused %s %s: %s", scope.get("method", "?"), scope.get("path", "?"), detail
            )
            await _reply(send, status, detail)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reply(send: Send, status: int, detail: str) -> None:
    payload = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _body_refusal(body: bytes) -> tuple[int, str] | None:
    """Why a body is refused before any route sees it, as (status, detail), or None.

    A body holding NUL or an unpaired surrogate is refused; only bodies with escapes are
    parsed to find one, and a body nested too deeply for the parser is refused too. A body
    that is otherwise not JSON is left for the route to refuse."""
    if b"\x00" in body:
        return 422, NUL_DETAIL
    if b"\\u" not in body:
        return None
    try:
        document = json.loads(body)
    except RecursionError:
        return 400, NESTING_DETAIL
    except ValueError:
        return None
    if _has_unstorable(document):
        return 422, NUL_DETAIL
    return None


def _has_unstorable(document: object) -> bool:
    """Walks the document with an explicit stack: its depth is whatever the parser accepted."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
