"""Run every summary report for one set of filters and write the HTML file atomically."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from district import tables
from district.report.html import render_report
from district.summaries import REPORTS, FilterError, run_report
from schema.errors import UserError
from schema.summaries import SummaryFilters


class ReportError(UserError):
    """A report that cannot be written; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    scope_name: str
    period: str
    size_kb: int


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option} {text!r} is not a date like 2026-11-01") from None


def _school_name(engine: Engine, school_id: str | None) -> str:
    if school_id is None:
        return "All schools"
    with engine.connect() as connection:
        name = connection.execute(
            sa.select(tables.orgs.c.name).where(tables.orgs.c.sourced_id == school_id)
        ).scalar_one_or_none()
    return f"{name} ({school_id})" if name else school_id


def build_html(
    engine: Engine, filters: SummaryFilters, *, now: datetime | None = None
) -> tuple[str, str, str]:
    """The report's HTML, its scope's name and its period, for ``filters``."""
    moment = now or datetime.now(UTC)
    reports = [
        run_report(engine, name, filters, None, now=moment).model_dump(mode="json")
        for name in REPORTS
    ]
    scope_name = _school_name(engine, filters.school_id)
    period = f"{reports[0]['period_from']} to {reports[0]['period_to']}"
    generated = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return render_report(reports, scope_name=scope_name, generated_at=generated), scope_name, period


def write_report(
    engine: Engine,
    out: Path,
    *,
    school: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    now: datetime | None = None,
) -> Written:
    """Write the report for these filters to ``out`` (replaced whole, never half-written)."""
    try:
        filters = SummaryFilters(
            school_id=school,
            date_from=_date(date_from, "--from"),
            date_to=_date(date_to, "--to"),
        )
    except ValidationError as error:
        message = str(error.errors()[0].get("msg", "invalid filters"))
        raise ReportError(message.removeprefix("Value error, ")) from None
    try:
        html, scope_name, period = build_html(engine, filters, now=now)
    except FilterError as error:
        raise ReportError(str(error)) from None
    target = out.resolve()
    if not target.parent.is_dir():
        raise ReportError(f"--out {out}: no such directory {target.parent}")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(html, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ReportError(f"--out {out}: {error.strerror}") from None
    return Written(target, scope_name, period, max(1, len(html.encode()) // 1024))
