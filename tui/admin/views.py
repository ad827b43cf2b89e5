"""From a report's JSON to what the dashboard shows: views, each a table of the report's numbers
with, where it helps, a bar chart of one column of that same table (so the chart and its table
view can never disagree), and the drill-down filter behind each row.

No Textual here: the panels draw these, the CSV export writes them, tests compare them with the
API's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = str | int | float | None


@dataclass(frozen=True, slots=True)
class Chart:
    """Bars: one per table row, ``values[i]`` for ``labels[i]`` (None: suppressed, no bar)."""

    labels: list[str]
    values: list[float | None]
    title: str
    horizontal: bool = False


@dataclass(slots=True)
class View:
    """One table of a report, and the chart of one of its columns."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Value]] = field(default_factory=list)
    chart_column: int | None = None
    horizontal: bool = False
    drill: list[dict[str, str] | None] = field(default_factory=list)

    def cell_text(self, value: Value) -> str:
        return format_value(value)

    def text_rows(self) -> list[list[str]]:
        return [[format_value(value) for value in row] for row in self.rows]

    @property
    def chart(self) -> Chart | None:
        if self.chart_column is None or not self.rows:
            return None
        values: list[float | None] = []
        for row in self.rows:
            value = row[self.chart_column]
            values.append(float(value) if isinstance(value, int | float) else None)
        if all(value is None for value in values):
            return None
        return Chart(
            labels=[format_value(row[0]) for row in self.rows],
            values=values,
            title=f"{self.title}: {self.columns[self.chart_column]}",
            horizontal=self.horizontal,
        )


def format_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e9:
            return f"{value:.1f}"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def suppressed_words(row: dict[str, Any]) -> str:
    """A suppressed cell in words: "suppressed: " and the server's reason."""
    reason = str(row.get("reason") or "small cell").strip()
    return reason if reason.lower().startswith("suppressed") else f"suppressed: {reason}"


def _number(value: Any) -> Value:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    return None


def _label(value: Any) -> str:
    if value is None:
        return "(none)"
    return " ".join(str(value).split())


def _cell(value: Any) -> Value:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str) or value is None:
        return value
    return _label(value)


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get(key, "")), []).append(row)
    return groups


HIDDEN_COLUMNS = frozenset({"section", "key", "suppressed", "reason", "school_days"})
VERTICAL_SECTIONS = frozenset({"month", "hour", "weekday", "tier"})
CHART_COLUMNS: dict[str, tuple[str, ...]] = {
    "big5": ("per_school_day", "incidents", "students"),
    "levels": ("value",),
    "tab": ("events", "minutes_total", "students"),
    "follow-ups": ("total", "open", "done"),
    "progression": ("incidents", "bypasses"),
}
CHART_COLUMNS_BY_SECTION: dict[tuple[str, str], tuple[str, ...]] = {
    ("big5", "behavior"): ("incidents",),
    ("big5", "location"): ("incidents",),
    ("big5", "hour"): ("incidents",),
    ("big5", "weekday"): ("incidents",),
    ("big5", "student"): ("incidents",),
    ("big5", "tier"): ("students",),
}
DRILL_PARAMS: dict[str, str] = {
    "behavior": "behavior",
    "location": "location",
    "hour": "hour",
    "weekday": "weekday",
    "student": "student",
}
"""A section whose rows each stand for one behavior, location, hour, weekday or student, and
the records API's parameter that selects the Level 2 records behind such a row."""


def drill_params(report: str, parameter: str | None, row: dict[str, Any]) -> dict[str, str] | None:
    """The records API's parameters for the Level 2 records behind ``row``, or None where the
    row stands for no such set (a month, a total, a suppressed cell)."""
    if row.get("suppressed"):
        return None
    if report == "big5" and parameter is not None and row.get("key") is not None:
        return {parameter: str(row["key"])}
    params = {
        name: str(row[field])
        for field, name in (
            ("behavior_code", "behavior"),
            ("student_id", "student"),
            ("school_id", "school"),
        )
        if row.get(field)
    }
    return params if "behavior" in params or "student" in params else None


def _columns(rows: Sequence[dict[str, Any]], declared: Sequence[str]) -> list[str]:
    present = {key for row in rows for key, value in row.items() if value is not None}
    ordered = [column for column in declared if column in present or column == "label"]
    extra = [key for key in rows[0] if key not in ordered] if rows else []
    return [column for column in [*ordered, *extra] if column not in HIDDEN_COLUMNS]


SECTION_TITLES: dict[str, str] = {
    "total": "Totals",
    "tier": "Students by number of incidents (tiers)",
    "level2": "Level 2",
    "removal": "Removals from class",
    "iss": "In-School Suspension",
    "voided": "Voided records",
    "withdrawn": "Withdrawn by teachers",
    "iep_tab_out": "TAB Out minutes per student with an IEP",
    "started_by": "Started by",
    "returned_ready": "Returned ready",
    "group": "By student group",
    "bypass": "Progression bypasses by behavior",
    "repeat": "Repeated Level 2 for one behavior (Student Services cue)",
    "repeat_total": "Students with repeated Level 2",
}
SUMMARY_SECTIONS = frozenset({"total", "repeat_total"})
"""One-row sections that sum the others: shown after them, not first."""


def _title(name: str) -> str:
    if name in SECTION_TITLES:
        return SECTION_TITLES[name]
    words = name.replace("_", " ").replace("-", " ").strip()
    if words in DRILL_PARAMS or words in VERTICAL_SECTIONS:
        return f"By {words}"
    return words.capitalize()


def generic_views(
    report: str, rows: Sequence[dict[str, Any]], declared: Sequence[str]
) -> list[View]:
    """One view per section: the label first, then the report's columns; a suppressed row says
    so in words in each of its number cells and in a last column."""
    sections = _grouped(rows, "section")
    ordered = sorted(sections.items(), key=lambda item: item[0] in SUMMARY_SECTIONS)
    views = []
    for name, members in ordered:
        columns = _columns(members, declared)
        if "label" in columns:
            columns.remove("label")
        columns.insert(0, "label")
        any_suppressed = any(member.get("suppressed") for member in members)
        table: list[list[Value]] = []
        for member in members:
            if member.get("suppressed"):
                cells: list[Value] = [_label(member.get("label", member.get("key")))]
                cells += ["suppressed" for _ in columns[1:]]
            else:
                cells = [_label(member.get("label", member.get("key")))]
                cells += [_cell(member.get(column)) for column in columns[1:]]
            if any_suppressed:
                cells.append(suppressed_words(member) if member.get("suppressed") else "")
            table.append(cells)
        preferred = CHART_COLUMNS_BY_SECTION.get((report, name)) or CHART_COLUMNS.get(report, ())
        chart_column = next(
            (columns.index(column) for column in preferred if column in columns), None
        )
        if chart_column is None:
            chart_column = next(
                (
                    index
                    for index in range(1, len(columns))
                    if any(isinstance(row[index], int | float) for row in table)
                ),
                None,
            )
        parameter = DRILL_PARAMS.get(name)
        views.append(
            View(
                key=name,
                title=_title(name),
                columns=[column.replace("_", " ") for column in columns]
                + (["suppression"] if any_suppressed else []),
                rows=table,
                chart_column=chart_column,
                horizontal=name not in VERTICAL_SECTIONS,
                drill=[drill_params(report, parameter, member) for member in members],
            )
        )
    return views


EQUITY_COLUMNS = [
    "group",
    "enrolled",
    "with outcome",
    "risk",
    "risk ratio (n)",
    "share of outcome",
    "share of enrolled",
    "suppression",
]
DIMENSION_WORDS: dict[str, str] = {
    "race": "race/ethnicity",
    "sex": "sex",
    "iep": "IEP",
    "grade": "grade",
    "all": "all students",
}


def equity_views(rows: Sequence[dict[str, Any]]) -> list[View]:
    """One view per outcome and dimension: risk, risk ratio with its n, composition; a
    suppressed row says so in words in every number column."""
    from schema.summaries import OUTCOME_LABELS

    outcome_words = {str(key): label for key, label in OUTCOME_LABELS.items()}
    views: dict[tuple[str, str], View] = {}
    for row in rows:
        outcome_key = _label(row.get("outcome"))
        outcome = outcome_words.get(outcome_key, outcome_key)
        dimension_key = _label(row.get("dimension"))
        dimension = DIMENSION_WORDS.get(dimension_key, dimension_key)
        view = views.get((outcome, dimension))
        if view is None:
            view = View(
                key=f"{outcome_key}-{dimension_key}",
                title=f"{outcome}: {dimension}"
                if dimension_key == "all"
                else f"{outcome} by {dimension}",
                columns=list(EQUITY_COLUMNS),
                chart_column=3,
                horizontal=True,
            )
            views[(outcome, dimension)] = view
        group = _label(row.get("label") or row.get("group"))
        if row.get("suppressed"):
            hidden: list[Value] = ["suppressed"] * 6
            view.rows.append([group, *hidden, suppressed_words(row)])
        else:
            ratio = _number(row.get("risk_ratio"))
            view.rows.append(
                [
                    group,
                    _number(row.get("enrolled")),
                    _number(row.get("with_outcome")),
                    _number(row.get("risk")),
                    f"{format_value(ratio)} (n={row.get('with_outcome')})"
                    if ratio is not None
                    else "n/a",
                    _number(row.get("composition_outcome")),
                    _number(row.get("composition_enrolled")),
                    "",
                ]
            )
        view.drill.append(None)
    return list(views.values())


Builder = Callable[[Sequence[dict[str, Any]]], list[View]]
BUILDERS: dict[str, Builder] = {"equity": equity_views}


def report_views(report: str, data: dict[str, Any]) -> list[View]:
    """Every view of one report's JSON (its notes are the panel's)."""
    rows = [row for row in data.get("rows", []) if isinstance(row, dict)]
    declared = [str(column) for column in data.get("columns") or []]
    builder = BUILDERS.get(report)
    views = builder(rows) if builder else generic_views(report, rows, declared)
    if not views:
        views = [View(key="empty", title="No records", columns=["what"], rows=[])]
    return views
