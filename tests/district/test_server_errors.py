"""The HTTP edge: a user's mistake that no route answered itself becomes one line, never a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from schema.errors import UserError
from schema.grid import GridError


class _Conflict(UserError):
    status_code = 409


async def test_a_user_error_reaching_the_edge_is_answered_in_one_line(app: FastAPI) -> None:
    @app.get("/v1/test-refusal/{which}")
    def refuse(which: str) -> None:
        if which == "grid":
            raise GridError("behavior 'X' is not in the grid\nfor grade 7")
        raise _Conflict("already taken by another responder")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://district.test") as http:
        grid = await http.get("/v1/test-refusal/grid")
        conflict = await http.get("/v1/test-refusal/conflict")
    assert grid.status_code == 422
    assert grid.json() == {"detail": "behavior 'X' is not in the grid for grade 7"}
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "already taken by another responder"}
