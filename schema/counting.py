"""The plan's counting rules, in one place for the device, the exports and the summaries.

An incident is an ISS when its actions hold one that was not recorded as a removal (R7: an ISS
for a student with an IEP without its three safeguards counts as a removal); it is a removal when
its actions hold a removal or such an ISS; an exclusion is either. A Take a Break is a support,
never discipline: it is never an ISS, a removal or an exclusion (R3, invariant 4), whatever it
holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ISS = "iss"
REMOVAL = "removal"


def _actions(fields: Mapping[str, Any]) -> set[str]:
    actions: Iterable[Any] = fields.get("actions") or ()
    return {str(action) for action in actions}


def is_iss(kind: str, fields: Mapping[str, Any]) -> bool:
    if kind != "incident":
        return False
    return ISS in _actions(fields) and not fields.get("iss_recorded_as_removal")


def is_removal(kind: str, fields: Mapping[str, Any]) -> bool:
    if kind != "incident":
        return False
    actions = _actions(fields)
    return REMOVAL in actions or (ISS in actions and bool(fields.get("iss_recorded_as_removal")))


def is_exclusion(kind: str, fields: Mapping[str, Any]) -> bool:
    return is_iss(kind, fields) or is_removal(kind, fields)


def iss_days(kind: str, fields: Mapping[str, Any]) -> float | None:
    """The days an ISS lasts (a whole day when none were given); None when it is no ISS."""
    if not is_iss(kind, fields):
        return None
    days = fields.get("iss_days")
    return float(days) if days is not None else 1.0
