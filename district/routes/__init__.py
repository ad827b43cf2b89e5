"""The server's HTTP routes, one module per resource."""

from __future__ import annotations

from typing import Any

from schema.wire import ErrorBody

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "the request body is not valid JSON"),
        (401, "missing, unknown or revoked token"),
        (403, "the device's role or scope does not allow this"),
        (413, "request body too large"),
        (422, "the request is not valid"),
        (429, "too many requests: see Retry-After"),
    )
}


def json_errors(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    """Error responses documented as JSON for a route whose own answer is not JSON (FastAPI
    would otherwise list them under the route's media type)."""
    return {
        status: {
            "description": ERROR_RESPONSES[status]["description"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for status in statuses
    }
