"""Rebuild schema/data/grid.json from the district's response-grid.md table.

Usage: python scripts/grid_from_markdown.py PATH/TO/response-grid.md [--school-year 2026-2027]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

TITLE_IX_CATEGORY_MARK = "(Title IX)"
MANDATORY_REPORTING = {"LANG-THREAT", "FIRE-THREAT", "FIRE-BOMB", "WPN-TOY-THREAT"}
MANDATORY_REPORTING_PREFIX = "WPN-"
NOT_A_THREAT = {"WPN-TOY"}
FOR_REVIEW = {
    "PHYS-AGGR": (
        "The plan's progression section sends a 1st and 2nd offense to OSS; the grid's span "
        "(2-5) disagrees. The district should confirm the levels."
    ),
}
ALTERNATIVES_TO_SUSPENSION = {
    "DIS-TAUNT",
    "DIS-CLASS",
    "LANG-STAFF",
    "PHYS-AGGR",
    "REC-FIGHT",
    "PHYS-STAFF-CONTACT",
    "ADT-MJ-LE1",
    "ADT-MJ-GE1",
    "ADT-DRUG",
    "ADT-BUY",
    "ADT-DIST-DRUG",
}


def parse_rows(text: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 8 or not re.fullmatch(r"[A-Z][A-Z0-9-]*", cells[0]) or cells[0] == "code":
            continue
        code, category, behavior, _cells, _span, inferred = cells[:6]
        low, _, high = inferred.partition("-")
        levels = list(range(int(low), int(high or low) + 1))
        rows.append(
            {
                "code": code,
                "category": category,
                "behavior": behavior,
                "levels": levels,
                "title_ix": TITLE_IX_CATEGORY_MARK in category,
                "mandatory_reporting": code not in NOT_A_THREAT
                and (code in MANDATORY_REPORTING or code.startswith(MANDATORY_REPORTING_PREFIX)),
                "alternatives_to_suspension": code in ALTERNATIVES_TO_SUSPENSION,
                "review": FOR_REVIEW.get(code, ""),
                "confidence": cells[7],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("markdown", type=Path)
    parser.add_argument("--school-year", default="2026-2027")
    parser.add_argument("--grade-band", default="6-8")
    parser.add_argument("--out", type=Path, default=Path("schema/data/grid.json"))
    args = parser.parse_args()
    rows = parse_rows(args.markdown.read_text(encoding="utf-8"))
    entries = [
        {"school_year": args.school_year, "grade_band": args.grade_band, "verified": False, **row}
        for row in rows
    ]
    document = {"version": 1, "source": "Middle School Behavior Education Plan", "entries": entries}
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{len(entries)} grid entries written to {args.out}")


if __name__ == "__main__":
    main()
