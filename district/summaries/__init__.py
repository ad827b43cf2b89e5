"""Administrators' summaries (DESIGN section 6b): one code path behind the HTTP API, the CLI,
the dashboard and the HTML report.

    run_report(engine, "big5", SummaryFilters(school_id="s1"), scope=None) -> SummaryReport

``scope`` is the one school the caller may see, or None for a district-wide caller; asking for
another school raises :class:`ScopeError`, a filter no report can answer :class:`FilterError`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from district.db import snapshot_transaction
from district.summaries.context import ScopeError, resolve
from district.summaries.records import RECORD_COLUMNS, RecordListing, list_records
from district.summaries.reports import REPORT_BUILDERS
from schema.summaries import (
    REPORT_COLUMNS,
    REPORT_NAMES,
    FilterError,
    ReportName,
    SummaryFilters,
    SummaryReport,
    Suppression,
)

REPORTS: tuple[ReportName, ...] = REPORT_NAMES

__all__ = [
    "RECORD_COLUMNS",
    "REPORTS",
    "FilterError",
    "RecordListing",
    "ScopeError",
    "list_records",
    "run_report",
]


def run_report(
    engine: Engine,
    report: str,
    filters: SummaryFilters,
    scope: str | None = None,
    *,
    now: datetime | None = None,
) -> SummaryReport:
    """One report for ``filters`` within ``scope``, from one consistent read."""
    if report not in REPORT_BUILDERS:
        raise FilterError(f"unknown report {report!r}: use one of {', '.join(REPORTS)}")
    name: ReportName = report
    with snapshot_transaction(engine) as connection:
        context = resolve(connection, filters, scope, now)
        built = REPORT_BUILDERS[name](context)
    thresholds = context.config.suppression
    suppression = built.suppression or Suppression(
        min_numerator=thresholds.min_numerator, min_denominator=thresholds.min_denominator
    )
    return SummaryReport(
        report=name,
        filters=filters,
        scope=context.scope_label,
        period_from=context.first,
        period_to=context.last,
        generated_at=context.now,
        suppression=suppression,
        columns=list(REPORT_COLUMNS[name]),
        rows=built.rows,
        notes=built.notes,
    )
