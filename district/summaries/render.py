"""A report as CSV or as a plain-text table (the CLI's default), from the same rows as JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from schema.spreadsheet import spreadsheet_cell
from schema.summaries import Cell, Row, SummaryReport


def _cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rows_csv(columns: Sequence[str], rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def report_csv(report: SummaryReport) -> str:
    return rows_csv(report.columns, report.rows)


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else "?" for char in text)


def rows_table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """Columns that hold something in any row, aligned; suppressed cells read "suppressed"."""
    used = [column for column in columns if any(row.get(column) is not None for row in rows)]
    lines: list[list[str]] = [[column.upper() for column in used]]
    for row in rows:
        cells = []
        for column in used:
            value = row.get(column)
            if value is None and row.get("suppressed") is True and column != "reason":
                cells.append("suppressed")
            else:
                cells.append(_printable(_cell_text(value)))
        lines.append(cells)
    widths = [max(len(line[index]) for line in lines) for index in range(len(used))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def report_table(report: SummaryReport) -> str:
    """The report for a terminal: a heading, one table per section, then the notes."""
    head = (
        f"{report.report} - {report.scope} - {report.period_from} to {report.period_to}"
        f" (generated {report.generated_at:%Y-%m-%d %H:%M} UTC)"
    )
    parts = [head]
    sections: list[str] = []
    for row in report.rows:
        section = str(row.get("section"))
        if section not in sections:
            sections.append(section)
    for section in sections:
        chosen = [row for row in report.rows if row.get("section") == section]
        columns = [column for column in report.columns if column != "section"]
        parts.append(f"\n[{section}]\n" + rows_table(columns, chosen))
    if not report.rows:
        parts.append("\n(no rows: see the notes)")
    if report.suppression.applies_to:
        parts.append(
            f"\nSuppression: cells with fewer than {report.suppression.min_numerator} students "
            f"with the outcome or fewer than {report.suppression.min_denominator} enrolled are "
            f"hidden, with complementary cells ({report.suppression.suppressed_cells} hidden)."
        )
    parts.extend(f"Note: {note}" for note in report.notes)
    return "\n".join(parts) + "\n"
