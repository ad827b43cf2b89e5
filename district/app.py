"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from district.clock import ServerClock
from district.db import create_engine, migrate
from district.deps import known_query_only
from district.listen import start_listener
from district.middleware import BodyLimitMiddleware
from district.notify import ChangeNotifier
from district.ratelimit import RateLimiter
from district.routes import admin, devices, health, referrals, schools, summaries, sync
from district.settings import Settings
from district.state import District
from schema.clock import WallClock, system_wall_ms
from schema.errors import UserError, one_line
from schema.wire import PushRequest

VERSION = "0.1.0"
MAX_DETAIL_CHARS = 300


def _validation_detail(error: RequestValidationError) -> str:
    """The first validation problem as one line: where, then what."""
    problems = error.errors()
    if not problems:
        return "invalid request"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid"))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {message}{more}"[:MAX_DETAIL_CHARS]


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": _validation_detail(error)}, status_code=422)


async def _on_user_error(_request: Request, error: Exception) -> JSONResponse:
    """A user's mistake that reached the edge without a route answering it: one line, 422
    unless the error names its own status."""
    assert isinstance(error, UserError)
    status_code = getattr(error, "status_code", 422)
    return JSONResponse({"detail": one_line(error)[:MAX_DETAIL_CHARS]}, status_code=status_code)


async def _on_http_error(request: Request, error: Exception) -> Response:
    """A 405 names in ``Allow`` every method the path has (Starlette names only the first route
    that matched the path); every other HTTP error is answered as FastAPI does."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _child = route.matches(request.scope)
        if match is not Match.NONE and isinstance(route, BaseRoute):
            allowed.update(getattr(route, "methods", None) or ())
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=405,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


async def _on_database_unavailable(_request: Request, _error: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "database unavailable: retry later"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    wall: WallClock = system_wall_ms,
) -> FastAPI:
    """Build the server. Migrates the database first unless ``settings.migrate_on_start`` is
    off. ``engine`` and ``wall`` let tests share a database and fix the clock."""
    settings = settings or Settings.from_env()
    engine = engine or create_engine(settings.database_url, pool_size=settings.pool_size)
    if settings.migrate_on_start:
        migrate(engine)
    district = District(
        settings=settings,
        engine=engine,
        clock=ServerClock(settings.server_node, wall=wall),
        notifier=ChangeNotifier(),
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        listener = start_listener(engine, district.notifier)
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            engine.dispose()

    app = FastAPI(
        title="classlog district server",
        version=VERSION,
        summary="Roster, devices, sync and exports for classlog devices.",
        lifespan=lifespan,
        dependencies=[Depends(known_query_only)],
    )
    app.state.district = district
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(UserError, _on_user_error)
    app.add_exception_handler(sa.exc.OperationalError, _on_database_unavailable)
    for module in (health, devices, sync, admin, referrals, schools, summaries):
        app.include_router(module.router)
    _document_push_body(app)
    return app


def _document_push_body(app: FastAPI) -> None:
    """Add the push body's schemas to the OpenAPI document (the route parses it itself)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if "PushRequest" not in schemas:
            schema = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas["PushRequest"] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]
