"""Which behavior each digit 1-9 picks today. The digits never move during a school day: a
teacher who learned "1 is disruption" in the morning still gets disruption in the afternoon.

First come the pinned behaviors: the teacher's own (pinned from the behavior screen) and then the
district's (``pinned_behaviors`` in the district's config, brought by sync). Then this staff
member's most used behaviors, ranked once at the day's first log and kept in the device's
config until the next day, then common classroom behaviors. The same digits for every student:
a behavior the grid does not offer a student's grade keeps its digit and says so.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

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
DAY_RANKING = "most_used_of_day"


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
    """This staff member's most used behaviors as ranked at the day's first use (kept in the
    device's config, so a restart the same day gives the same order)."""
    day = store.local_today().isoformat()
    staff_id = store.staff_id or ""
    try:
        saved = json.loads(store.meta(DAY_RANKING) or "{}")
    except ValueError:
        saved = {}
    if (
        isinstance(saved, dict)
        and saved.get("day") == day
        and saved.get("staff_id") == staff_id
        and isinstance(saved.get("codes"), list)
    ):
        return [str(code) for code in saved["codes"]]
    codes = store.top_behaviors(limit=TOP_COUNT)
    store.set_config(
        **{DAY_RANKING: json.dumps({"day": day, "staff_id": staff_id, "codes": codes})}
    )
    return codes


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
