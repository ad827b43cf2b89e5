"""Fixed report JSON in the summaries API's shape, served in-process for the dashboard's SVG
snapshots (which must not depend on today's date); the real server's numbers are compared in
test_admin_dashboard.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
ENVELOPE: dict[str, Any] = {
    "filters": {"school_id": None, "date_from": None, "date_to": None, "grade": None,
                "level": None, "group": None},
    "scope": "district",
    "period_from": "2026-09-01",
    "period_to": "2026-11-18",
    "generated_at": "2026-11-18T15:30:00Z",
    "suppression": {"min_numerator": 10, "min_denominator": 30, "applies_to": [],
                    "suppressed_cells": 0, "complementary_cells": 0},
}  # fmt: skip
BEHAVIORS = (
    ("DIS-CLASS", "Classroom disruption", 61), ("LANG-STUDENT", "Inappropriate language", 34),
    ("DIS-HALL", "Hallway disruption", 22), ("PHYS-CONTACT", "Physical contact", 17),
    ("DEVICE", "Device misuse", 9), ("DIS-TAUNT", "Taunting", 5),
)  # fmt: skip
MONTHS = (("2026-09", "September 2026", 58, 21), ("2026-10", "October 2026", 61, 22),
          ("2026-11", "November 2026", 29, 13))  # fmt: skip
HOURS = ((8, 12), (9, 19), (10, 27), (11, 31), (12, 33), (13, 18), (14, 8))


def big5() -> dict[str, Any]:
    total = sum(count for *_, count in BEHAVIORS)
    rows: list[dict[str, Any]] = [
        {"section": "total", "key": "all", "label": "All Level 2 incidents", "incidents": total,
         "school_days": 56, "per_school_day": round(total / 56, 2), "students": 160},
    ]  # fmt: skip
    rows += [
        {"section": "month", "key": key, "label": label, "incidents": count,
         "school_days": days, "per_school_day": round(count / days, 2)}
        for key, label, count, days in MONTHS
    ]  # fmt: skip
    rows += [
        {"section": "behavior", "key": code, "label": label, "incidents": count,
         "share": round(count / total, 2)}
        for code, label, count in BEHAVIORS
    ]  # fmt: skip
    rows += [
        {"section": "hour", "key": f"{hour:02d}", "label": f"{hour:02d}:00-{hour:02d}:59",
         "incidents": count, "share": round(count / total, 2)}
        for hour, count in HOURS
    ]  # fmt: skip
    rows += [
        {"section": "tier", "key": tier, "label": f"Students with {tier} incidents",
         "students": students, "share": round(students / 160, 2)}
        for tier, students in (("0-1", 121), ("2-5", 31), ("6+", 8))
    ]  # fmt: skip
    columns = ["section", "key", "label", "incidents", "school_days", "per_school_day",
               "students", "share"]  # fmt: skip
    note = "Office referrals are not recorded yet: they are not in these counts."
    return {**ENVELOPE, "report": "big5", "columns": columns, "rows": rows, "notes": [note]}


def equity() -> dict[str, Any]:
    def row(
        group: str, label: str, enrolled: int, with_outcome: int, ratio: float
    ) -> dict[str, Any]:
        return {"section": "equity", "outcome": "any_level2", "dimension": "sex",
                "group": group, "label": label, "enrolled": enrolled,
                "with_outcome": with_outcome, "risk": round(with_outcome / enrolled, 2),
                "risk_ratio": ratio, "composition_outcome": 0.5, "composition_enrolled": 0.5,
                "suppressed": False, "reason": None}  # fmt: skip

    hidden = {"section": "equity", "outcome": "any_level2", "dimension": "sex", "group": "x",
              "label": "Non-binary", "enrolled": None, "with_outcome": None, "risk": None,
              "risk_ratio": None, "composition_outcome": None, "composition_enrolled": None,
              "suppressed": True, "reason": "fewer than 30 students enrolled"}  # fmt: skip
    columns = ["section", "outcome", "dimension", "group", "label", "enrolled", "with_outcome",
               "risk", "risk_ratio", "composition_outcome", "composition_enrolled",
               "suppressed", "reason"]  # fmt: skip
    return {
        **ENVELOPE, "report": "equity", "columns": columns,
        "rows": [row("female", "Female", 78, 14, 0.52), row("male", "Male", 79, 25, 1.93),
                 hidden],
        "notes": [],
    }  # fmt: skip


def handler(request: httpx.Request) -> httpx.Response:
    report = request.url.path.rsplit("/", 1)[-1]
    if report == "big5":
        return httpx.Response(200, json=big5())
    if report == "equity":
        return httpx.Response(200, json=equity())
    return httpx.Response(200, json={**ENVELOPE, "report": report, "columns": [], "rows": [],
                                      "notes": []})  # fmt: skip


def transport() -> httpx.MockTransport:
    return httpx.MockTransport(handler)
