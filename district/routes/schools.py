"""The schools an administrator's token covers, with their names from the roster (for the
dashboard's school filter): every school for a district administrator, their own for a school's."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter

from district import tables
from district.deps import AdminDep, ConnectionDep
from district.routes import ERROR_RESPONSES
from district.routes.models import StrictModel

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)


class SchoolOut(StrictModel):
    id: str
    name: str


@router.get("/schools", response_model=list[SchoolOut])
def schools(admin: AdminDep, connection: ConnectionDep) -> list[SchoolOut]:
    """The schools in this token's scope, by name."""
    orgs = tables.orgs
    query = sa.select(orgs.c.sourced_id, orgs.c.name).where(orgs.c.type == "school")
    if not admin.district_scope:
        query = query.where(orgs.c.sourced_id == admin.school_id)
    rows = connection.execute(query.order_by(orgs.c.name, orgs.c.sourced_id))
    return [SchoolOut(id=row.sourced_id, name=row.name) for row in rows]
