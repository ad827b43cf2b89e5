"""Which behavior each digit 1-9 picks today. The digits never move during a school day: a
teacher who learned "1 is disruption" in the morning still gets disruption in the afternoon.

First come the pinned behaviors: the teacher's own (pinned from the behavior screen) and then the
district's (``pinned_behaviors`` in the district's config, brought by sync). Then this staff
member's most used behaviors as they stood when the day began (re-ranked overnight), then
common classroom behaviors. The same digits for every student:
a behavior the grid does not offer a student's grade keeps its digit and says so.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import TYPE_CHECKING

from schema.rows import to_text

if TYPE_CHECKING:
    from schema.store import DeviceStore

TOP_COUNT = 9
COMMON_CLASSROOM_BEHAVIORS = (
    "DIS-CLASS",
    "DEVICE",
    "LANG-STUDENT",
    "PHYS-CONTACT",
    "DIS-LEAVE",
    "TECH",
    "DIS-HALL",
    "PROP",
    "DIS-TAUNT",
)
"""Used to fill the numbered list until the teacher's own history has nine behaviors."""
TEACHER_PINS = "my_pinned_behaviors"
DISTRICT_PINS = "pinned_behaviors"


def _codes(text: str | None) -> list[str]:
    """A config value as a list of codes: a JSON list, or codes separated by commas."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        value = text.split(",")
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    return [str(code).strip().upper() for code in value if str(code).strip()]


def teacher_pins(store: DeviceStore) -> list[str]:
    return _codes(store.meta(TEACHER_PINS))


def district_pins(store: DeviceStore) -> list[str]:
    return _codes(store.meta(DISTRICT_PINS))


def day_ranking(store: DeviceStore) -> list[str]:
    """This staff member's most used behaviors this school year, counted as they stood when
    the day began: records created (or voided) today do not move them until tomorrow. A read
    only, so the same order comes back after a restart."""
    year = store.school_year()
    year_start = datetime.combine(year.start, time.min, tzinfo=store.timezone)
    day_start, _ = store.day_bounds(store.local_today())
    rows = store.connection.execute(
        "SELECT behavior_code, count(*) AS uses FROM incidents WHERE staff_id = ? "
        "AND occurred_at >= ? AND created_at < ? AND (voided_at IS NULL OR voided_at >= ?) "
        "GROUP BY behavior_code ORDER BY uses DESC, behavior_code LIMIT ?",
        (
            store.staff_id or "",
            to_text(year_start),
            to_text(day_start),
            to_text(day_start),
            TOP_COUNT,
        ),
    )
    return [str(row[0]) for row in rows]


def numbered_codes(store: DeviceStore) -> list[str]:
    """The behavior codes behind the digits 1-9, in order."""
    codes: list[str] = []
    for code in (
        *teacher_pins(store),
        *district_pins(store),
        *day_ranking(store),
        *COMMON_CLASSROOM_BEHAVIORS,
    ):
        if code not in codes:
            codes.append(code)
        if len(codes) == TOP_COUNT:
            break
    return codes


def toggle_pin(store: DeviceStore, code: str) -> bool:
    """Pin a behavior to the teacher's first digits, or unpin it. Returns True when pinned."""
    pins = teacher_pins(store)
    pinned = code not in pins
    pins = [*pins, code] if pinned else [pin for pin in pins if pin != code]
    store.set_config(**{TEACHER_PINS: json.dumps(pins[:TOP_COUNT])})
    return pinned
