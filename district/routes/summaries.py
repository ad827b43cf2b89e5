"""Administrators' summaries (DESIGN section 6b) and their config: the calendar and the
suppression thresholds. A school's admin reads its own school only (403 for another); a district
admin reads any school or the whole district and alone changes the config."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BeforeValidator, ValidationError

from district.db import write_transaction
from district.deps import AdminDep, ConnectionDep, DistrictDep
from district.routes import ERROR_RESPONSES
from district.scope import Device
from district.summaries import (
    FilterError,
    RecordListing,
    ScopeError,
    list_records,
    run_report,
)
from district.summaries.config import read_summary_config, store_summary_config
from district.summaries.render import report_csv, rows_csv
from schema.summaries import ReportName, SummaryConfig, SummaryFilters, SummaryReport

router = APIRouter(prefix="/v1/summaries", tags=["summaries"], responses=ERROR_RESPONSES)

Format = Literal["json", "csv"]
CSV_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


def _iso_day(value: object) -> object:
    """A day in the query is written YYYY-MM-DD: a number is not read as a Unix time."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


def _one_line(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ()))
    message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def summary_filters(
    school: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    date_from: Annotated[IsoDay | None, Query(alias="from")] = None,
    date_to: Annotated[IsoDay | None, Query(alias="to")] = None,
    grade: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    level: Annotated[int | None, Query(ge=1, le=5)] = None,
    group: Annotated[
        str | None, Query(min_length=3, max_length=100, description="DIMENSION:VALUE, e.g. iep:yes")
    ] = None,
) -> SummaryFilters:
    try:
        return SummaryFilters(
            school_id=school,
            date_from=date_from,
            date_to=date_to,
            grade=grade,
            level=level,
            group=group,
        )
    except ValidationError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _one_line(error)) from error


FiltersDep = Annotated[SummaryFilters, Depends(summary_filters)]


def _scope(admin: Device) -> str | None:
    return None if admin.district_scope else admin.school_id


def _refused(error: FilterError) -> HTTPException:
    if isinstance(error, ScopeError):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(error))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))


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


@router.get("/records", response_model=RecordListing, responses=CSV_RESPONSE)
def records(
    admin: AdminDep,
    district: DistrictDep,
    filters: FiltersDep,
    behavior: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    location: Annotated[str | None, Query(max_length=500)] = None,
    hour: Annotated[int | None, Query(ge=0, le=23)] = None,
    weekday: Annotated[int | None, Query(ge=0, le=6)] = None,
    student: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    format: Format = "json",
) -> RecordListing | PlainTextResponse:
    """The Level 2 incidents behind a report's cell, newest first (never by race or sex)."""
    try:
        listing = list_records(
            district.engine,
            filters,
            _scope(admin),
            behavior=behavior,
            location=location,
            hour=hour,
            weekday=weekday,
            student_id=student,
            limit=limit,
        )
    except FilterError as error:
        raise _refused(error) from error
    if format == "csv":
        return PlainTextResponse(rows_csv(listing.columns, listing.rows), media_type="text/csv")
    return listing


@router.get("/{report}", response_model=SummaryReport, responses=CSV_RESPONSE)
def summary(
    report: ReportName,
    admin: AdminDep,
    district: DistrictDep,
    filters: FiltersDep,
    format: Format = "json",
) -> SummaryReport | PlainTextResponse:
    """One report (big5, levels, tab, follow-ups, progression, equity) for the admin's scope."""
    try:
        result = run_report(district.engine, report, filters, _scope(admin))
    except FilterError as error:
        raise _refused(error) from error
    if format == "csv":
        return PlainTextResponse(report_csv(result), media_type="text/csv")
    return result
