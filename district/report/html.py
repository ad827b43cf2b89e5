"""The HTML report: every summary report as SVG charts and tables in one file, with its filters,
its generation time and how small cells were suppressed. No script, no font, no image and no
style sheet from outside the file; laid out to print on A4 and on Letter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from district.report.charts import bar_chart_svg
from schema.summaries import OUTCOME_LABELS

OUTCOME_WORDS: dict[str, str] = {str(key): label for key, label in OUTCOME_LABELS.items()}

REPORT_TITLES: dict[str, str] = {
    "big5": "Big 5: Level 2 incidents and office referrals",
    "levels": "Levels, removals and In-School Suspension",
    "tab": "Take a Break",
    "follow-ups": "Follow-ups",
    "progression": "Progression",
    "equity": "Equity: risk, risk ratio and composition by student group",
}
HIDDEN_COLUMNS = frozenset({"section", "key", "suppressed", "reason", "outcome", "dimension"})
VERTICAL_SECTIONS = frozenset({"month", "hour", "weekday", "tiers"})
CHART_COLUMNS: dict[str, tuple[str, ...]] = {
    "big5": ("per_school_day", "incidents", "students"),
    "levels": ("value",),
    "tab": ("events", "minutes_total", "students"),
    "follow-ups": ("total", "open", "done"),
    "progression": ("incidents", "bypasses"),
    "equity": ("risk",),
}
CHART_COLUMNS_BY_SECTION: dict[tuple[str, str], tuple[str, ...]] = {
    ("big5", "behavior"): ("incidents",),
    ("big5", "location"): ("incidents",),
    ("big5", "hour"): ("incidents",),
    ("big5", "weekday"): ("incidents",),
    ("big5", "student"): ("incidents",),
    ("big5", "tiers"): ("students",),
}
DIMENSION_WORDS: dict[str, str] = {
    "race": "race/ethnicity",
    "sex": "sex",
    "iep": "IEP",
    "grade": "grade",
    "all": "all students",
}

CSS = """
@page { margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.35 Helvetica, Arial, sans-serif; color: #111; margin: 0 auto;
       max-width: 186mm; padding: 8mm 0; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h2 { font-size: 13.5pt; margin: 7mm 0 2mm; border-bottom: 1px solid #999; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; break-after: avoid; }
dl.filters { display: grid; grid-template-columns: max-content 1fr; gap: 0.5mm 4mm; margin: 0; }
dl.filters dt { font-weight: bold; }
dl.filters dd { margin: 0; }
.note { background: #f3f3f3; border-left: 3px solid #666; padding: 2mm 3mm; margin: 2mm 0; }
figure { margin: 1mm 0 2mm; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin-bottom: 3mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 0.8mm 1.6mm; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.suppressed { font-style: italic; }
th { background: #e8e8e8; }
footer { margin-top: 6mm; font-size: 8.5pt; color: #444; }
@media print {
  body { padding: 0; max-width: none; }
  h2 { break-before: auto; }
  .report { break-before: page; }
  .report:first-of-type { break-before: auto; }
}
"""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 100 else f"{value:.2f}"
    return " ".join(str(value).split())


def _row_label(row: Mapping[str, Any]) -> str:
    label = row.get("label")
    return _text(label if label is not None else row.get("group") or row.get("key"))


def _suppressed_words(row: Mapping[str, Any]) -> str:
    reason = _text(row.get("reason")) or "small cell"
    return reason if reason.lower().startswith("suppressed") else f"suppressed: {reason}"


def _columns(report: str, declared: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    present = {key for row in rows for key, value in row.items() if value is not None}
    columns = [c for c in declared if c not in HIDDEN_COLUMNS and (c in present or c == "label")]
    if "label" in columns:
        columns.remove("label")
    if report == "equity" and "group" in columns:
        columns.remove("group")
    return ["label", *columns]


def _sections(report: Mapping[str, Any]) -> list[tuple[str, str, list[Mapping[str, Any]]]]:
    """(key, heading, rows) per table of a report: its sections, and for equity one table per
    outcome and dimension."""
    rows = [row for row in report.get("rows", []) if isinstance(row, Mapping)]
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        if report.get("report") == "equity":
            outcome = _text(row.get("outcome"))
            dimension = _text(row.get("dimension"))
            words = DIMENSION_WORDS.get(dimension, dimension)
            heading = OUTCOME_WORDS.get(outcome, outcome) + (
                f": {words}" if dimension == "all" else f" by {words}"
            )
            key = f"{outcome}-{dimension}"
        else:
            key = _text(row.get("section")) or "all"
            words = key.replace("_", " ").replace("-", " ")
            heading = (
                f"By {words}"
                if key in VERTICAL_SECTIONS | {"behavior", "location", "student"}
                else words.capitalize()
            )
        groups.setdefault((key, heading), []).append(row)
    return [(key, heading, members) for (key, heading), members in groups.items()]


def _section_html(
    report_name: str,
    key: str,
    heading: str,
    declared: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> str:
    columns = _columns(report_name, declared, rows)
    any_suppressed = any(row.get("suppressed") for row in rows)
    header = "".join(f"<th>{escape(column.replace('_', ' '))}</th>" for column in columns)
    if any_suppressed:
        header += "<th>suppression</th>"
    body = []
    for row in rows:
        label = _row_label(row)
        cells = [f"<td>{escape(label)}</td>"]
        for column in columns[1:]:
            if row.get("suppressed"):
                cells.append('<td class="suppressed">suppressed</td>')
                continue
            value = row.get(column)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            css = ' class="number"' if number else ""
            text = _text(value)
            if column == "risk_ratio" and number:
                text = f"{text} (n={_text(row.get('with_outcome'))})"
            cells.append(f"<td{css}>{escape(text)}</td>")
        if any_suppressed:
            words = _suppressed_words(row) if row.get("suppressed") else ""
            cells.append(f'<td class="suppressed">{escape(words)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    chart = _chart(report_name, key, heading, columns, rows)
    figure = f'<figure class="chart">{chart}</figure>' if chart else ""
    return (
        f'<div class="section" id="{escape(report_name)}-{escape(key)}"><h3>{escape(heading)}</h3>'
        f"{figure}<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</div>"
    )


def _chart(
    report_name: str,
    key: str,
    heading: str,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> str | None:
    preferred = CHART_COLUMNS_BY_SECTION.get((report_name, key)) or CHART_COLUMNS.get(
        report_name, ()
    )
    column = next((c for c in preferred if c in columns), None)
    if column is None:
        column = next(
            (
                c
                for c in columns[1:]
                if any(
                    isinstance(row.get(c), int | float) and not isinstance(row.get(c), bool)
                    for row in rows
                )
            ),
            None,
        )
    if column is None:
        return None
    labels = [_row_label(row) for row in rows]
    values: list[float | None] = []
    for row in rows:
        value = row.get(column)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values.append(None if row.get("suppressed") else float(value))
        else:
            values.append(None)
    if len(values) < 2 or not any(values):
        return None
    horizontal = key not in VERTICAL_SECTIONS
    return bar_chart_svg(
        f"{heading}: {column.replace('_', ' ')}",
        labels,
        values,
        horizontal=horizontal,
        value_name=column.replace("_", " "),
    )


def _suppression_html(reports: Sequence[Mapping[str, Any]]) -> str:
    suppression = next(
        (r.get("suppression") for r in reports if isinstance(r.get("suppression"), Mapping)), None
    )
    numerator = suppression.get("min_numerator", 10) if suppression else 10
    denominator = suppression.get("min_denominator", 30) if suppression else 30
    hidden = sum(
        int(r["suppression"].get("suppressed_cells", 0))
        + int(r["suppression"].get("complementary_cells", 0))
        for r in reports
        if isinstance(r.get("suppression"), Mapping)
    )
    return (
        '<div class="note" id="suppression"><strong>Small cells are suppressed.</strong> '
        f"A group with fewer than {escape(str(numerator))} students with the outcome, or fewer "
        f"than {escape(str(denominator))} students enrolled, shows no numbers: its cells say "
        "\u201csuppressed\u201d and why. Where a hidden number could be worked out from a "
        "published total and the other cells of its row or column, the next smallest cell is "
        "hidden too (complementary suppression), so no hidden number can be recomputed. Every "
        f"ratio is shown with its n. Cells hidden in this report: {hidden}.</div>"
    )


def render_report(
    reports: Sequence[Mapping[str, Any]], *, scope_name: str, generated_at: str
) -> str:
    """The whole HTML document for ``reports`` (each a report's JSON, as the API returns it)."""
    first = reports[0] if reports else {}
    filters = first.get("filters") if isinstance(first.get("filters"), Mapping) else {}
    assert isinstance(filters, Mapping)
    period = f"{_text(first.get('period_from'))} to {_text(first.get('period_to'))}"
    filter_rows = [
        ("Scope", scope_name),
        ("Period", period),
        ("Grade", _text(filters.get("grade")) or "all grades"),
        ("Level", _text(filters.get("level")) or "all levels (Level 2 and office referrals)"),
        ("Student group", _text(filters.get("group")) or "all students"),
        ("Generated", generated_at),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>classlog data review: {escape(scope_name)}, {escape(period)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>Behavior data review: {escape(scope_name)}</h1>",
        '<dl class="filters">',
        *(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in filter_rows),
        "</dl>",
        _suppression_html(reports),
        "</header>",
    ]
    for report in reports:
        name = _text(report.get("report"))
        parts.append(f'<section class="report" id="report-{escape(name)}">')
        parts.append(f"<h2>{escape(REPORT_TITLES.get(name, name))}</h2>")
        parts.extend(
            f'<p class="note">{escape(_text(note))}</p>' for note in report.get("notes") or []
        )
        declared = [str(column) for column in report.get("columns") or []]
        sections = _sections(report)
        if not sections:
            parts.append("<p>No records for these filters.</p>")
        for key, heading, rows in sections:
            parts.append(_section_html(name, key, heading, declared, rows))
        parts.append("</section>")
    parts.append(
        "<footer>Made by classlog from the district server's records: Level 2 incidents, office "
        "referrals, Take a Break events and follow-ups. Level 1 records never leave the "
        "classroom device and are not counted. A Take a Break is never counted as a removal, "
        "an In-School Suspension or an exclusion.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
