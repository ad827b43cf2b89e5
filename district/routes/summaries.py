"""Administrators' summaries (DESIGN section 6b) and their config: the calendar and the
suppression thresholds. A school's admin reads its own school only (403 for another); a district
admin reads any school or the whole district and alone changes the config."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from district.db import write_transaction
from district.deps import AdminDep, ConnectionDep, DistrictDep
from district.routes import ERROR_RESPONSES
from district.summaries.config import read_summary_config, store_summary_config
from schema.summaries import SummaryConfig

router = APIRouter(prefix="/v1/summaries", tags=["summaries"], responses=ERROR_RESPONSES)


@router.get("/config", response_model=SummaryConfig)
def get_config(admin: AdminDep, connection: ConnectionDep) -> SummaryConfig:
    """The school calendar and the suppression thresholds."""
    return read_summary_config(connection)


@router.put("/config", response_model=SummaryConfig)
def put_config(body: SummaryConfig, admin: AdminDep, district: DistrictDep) -> SummaryConfig:
    """Set the school calendar and the suppression thresholds (district admins; thresholds are
    never below 5 and 10)."""
    if not admin.district_scope:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "district administrators only")
    with write_transaction(district.engine) as tx:
        if store_summary_config(tx, body):
            tx.after_commit.append(district.notifier.notify)
    return body
