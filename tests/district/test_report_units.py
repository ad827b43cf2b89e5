"""The HTML report's renderer on its own: people's text is escaped everywhere (tables and SVG),
a suppressed cell is words and never a bar, and nothing in the file points outside it."""

from __future__ import annotations

import re
from typing import Any

from district.report import render_report

HOSTILE = '<script>alert("x")</script><img src="http://example.invalid/x.png">'


def report(rows: list[dict[str, Any]], name: str = "big5") -> dict[str, Any]:
    return {
        "report": name,
        "filters": {},
        "period_from": "2026-09-01",
        "period_to": "2026-11-30",
        "suppression": {"min_numerator": 10, "min_denominator": 30, "suppressed_cells": 1},
        "columns": ["section", "key", "label", "incidents", "share"],
        "rows": rows,
        "notes": [],
    }


def test_names_from_the_roster_are_text_in_tables_and_charts() -> None:
    rows = [
        {"section": "student", "key": "s1", "label": HOSTILE, "incidents": 7, "share": 0.5},
        {"section": "student", "key": "s2", "label": "Ada Byrne", "incidents": 3, "share": 0.2},
    ]
    html = render_report([report(rows)], scope_name=HOSTILE, generated_at="2026-12-01 10:00 UTC")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "<svg" in html


def test_the_file_refers_to_nothing_outside_itself() -> None:
    rows = [
        {"section": "behavior", "key": "A", "label": "A", "incidents": 4, "share": 0.4},
        {"section": "behavior", "key": "B", "label": "B", "incidents": 6, "share": 0.6},
    ]
    html = render_report([report(rows)], scope_name="All schools", generated_at="now")
    references = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html)
    assert references == []
    assert "@import" not in html
    assert "url(" not in html


def test_a_suppressed_group_is_words_and_draws_no_bar() -> None:
    rows = [
        {"section": "equity", "outcome": "iss", "dimension": "sex", "group": "f", "label": "F",
         "enrolled": 80, "with_outcome": 12, "risk": 0.15, "risk_ratio": 1.2,
         "composition_outcome": 0.5, "composition_enrolled": 0.5, "suppressed": False,
         "reason": None},
        {"section": "equity", "outcome": "iss", "dimension": "sex", "group": "x", "label": "X",
         "enrolled": None, "with_outcome": None, "risk": None, "risk_ratio": None,
         "composition_outcome": None, "composition_enrolled": None, "suppressed": True,
         "reason": "fewer than 10 students with the outcome"},
        {"section": "equity", "outcome": "iss", "dimension": "sex", "group": "m", "label": "M",
         "enrolled": 70, "with_outcome": 10, "risk": 0.14, "risk_ratio": 0.9,
         "composition_outcome": 0.5, "composition_enrolled": 0.5, "suppressed": False,
         "reason": None},
    ]  # fmt: skip
    data = report(rows, "equity")
    data["columns"] = [
        "section", "outcome", "dimension", "group", "label", "enrolled", "with_outcome", "risk",
        "risk_ratio", "composition_outcome", "composition_enrolled", "suppressed", "reason",
    ]  # fmt: skip
    html = render_report([data], scope_name="All schools", generated_at="now")
    assert "In-School Suspension by sex" in html
    assert "suppressed: fewer than 10 students with the outcome" in html
    assert "X (suppressed)" in html
    assert "1.20 (n=12)" in html
