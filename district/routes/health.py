"""Liveness and database health for load balancers and operators."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from district.deps import DistrictDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    server_time: datetime


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(district: DistrictDep) -> Health | JSONResponse:
    """``ok`` when the database answers; 503 otherwise."""
    try:
        with district.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        body = Health(
            status="unavailable", database="unreachable", server_time=district.clock.now()
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    return Health(
        status="ok", database=district.engine.dialect.name, server_time=district.clock.now()
    )
