"""The drill-down behind a report's cell: the counted Level 2 incidents themselves."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from district import tables
from district.db import snapshot_transaction
from district.summaries.context import incident_conditions, resolve
from district.summaries.population import all_students
from schema.summaries import FilterError, Row, SummaryFilters

MAX_RECORDS = 1000
RECORD_COLUMNS = (
    "id", "school_id", "local_date", "local_hour", "student_id", "student_name", "student_grade",
    "behavior_code", "location", "level", "removal", "iss", "staff_id",
)  # fmt: skip


class RecordListing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filters: SummaryFilters
    scope: str
    period_from: date
    period_to: date
    generated_at: datetime
    columns: list[str]
    rows: list[Row]
    total: int
    """How many incidents match; ``rows`` holds at most ``limit`` of them, newest first."""
    limit: int


def list_records(
    engine: Engine,
    filters: SummaryFilters,
    scope: str | None = None,
    *,
    behavior: str | None = None,
    location: str | None = None,
    hour: int | None = None,
    weekday: int | None = None,
    student_id: str | None = None,
    limit: int = 200,
    now: datetime | None = None,
) -> RecordListing:
    """The incidents counted in a report's cell (e.g. big5's "Hallway" or "10:00"), newest
    first. Not by race or sex: a list of single records would tell each student's group."""
    if filters.group_dimension in ("race", "sex"):
        raise FilterError("records are not listed by race/ethnicity or sex, only counted")
    if hour is not None and not 0 <= hour <= 23:
        raise FilterError(f"hour is 0-23, not {hour}")
    if weekday is not None and not 0 <= weekday <= 6:
        raise FilterError(f"weekday is 0 (Monday) to 6 (Sunday), not {weekday}")
    if not 1 <= limit <= MAX_RECORDS:
        raise FilterError(f"limit is 1-{MAX_RECORDS}, not {limit}")
    table = tables.incidents
    with snapshot_transaction(engine) as connection:
        context = resolve(connection, filters, scope, now)
        conditions = incident_conditions(context)
        if behavior is not None:
            conditions.append(table.c.behavior_code == behavior)
        if location is not None:
            conditions.append(
                table.c.location.is_(None) if location == "" else table.c.location == location
            )
        if hour is not None:
            conditions.append(table.c.local_hour == hour)
        if weekday is not None:
            conditions.append(table.c.local_weekday == weekday)
        if student_id is not None:
            conditions.append(table.c.student_id == student_id)
        total = connection.execute(
            sa.select(sa.func.count()).select_from(table).where(*conditions)
        ).scalar_one()
        found = connection.execute(
            sa.select(
                table.c.id,
                table.c.school_id,
                table.c.local_date,
                table.c.local_hour,
                table.c.student_id,
                table.c.student_grade,
                table.c.behavior_code,
                table.c.location,
                table.c.level,
                table.c.is_removal,
                table.c.is_iss,
                table.c.staff_id,
            )
            .where(*conditions)
            .order_by(table.c.occurred_at.desc(), table.c.id)
            .limit(limit)
        ).all()
        students = all_students(connection)
    rows: list[Row] = []
    for record in found:
        student = students.get(record.student_id)
        rows.append(
            {
                "id": record.id,
                "school_id": record.school_id,
                "local_date": record.local_date.isoformat() if record.local_date else None,
                "local_hour": record.local_hour,
                "student_id": record.student_id,
                "student_name": student.name if student else None,
                "student_grade": record.student_grade,
                "behavior_code": record.behavior_code,
                "location": record.location,
                "level": record.level,
                "removal": bool(record.is_removal),
                "iss": bool(record.is_iss),
                "staff_id": record.staff_id,
            }
        )
    return RecordListing(
        filters=filters,
        scope=context.scope_label,
        period_from=context.first,
        period_to=context.last,
        generated_at=context.now,
        columns=list(RECORD_COLUMNS),
        rows=rows,
        total=int(total),
        limit=limit,
    )
