"""The syncable record kinds' fields and how each is stored, as plain data.

The record contract (``schema.contract``) is the pydantic model of each kind; this module mirrors
its field names and storage shapes without building any model, so the device store can convert
rows at start-up for free. ``tests/schema/test_contract.py`` keeps the two equal.

Shapes: ``id`` (an identifier), ``code`` (a behavior code), ``text`` (free text), ``int``,
``float``, ``bool``, ``moment`` (an aware time, sent as UTC ISO 8601), ``zone`` (an IANA time
zone name), ``choice`` (one of a fixed vocabulary), ``actions`` (a list of action names) and
``safeguards`` (the three ISS safeguards of R7), ``ids`` (a list of identifiers), ``date`` (a
calendar day, ISO 8601) and ``texts`` (a list of short texts).
"""

from __future__ import annotations

import json
from typing import Any, Literal

Shape = Literal[
    "id", "code", "text", "int", "float", "bool", "moment", "zone", "choice", "actions",
    "safeguards", "ids", "date", "texts",
]  # fmt: skip

INCIDENT_SHAPES: dict[str, Shape] = {
    "student_id": "id",
    "staff_id": "id",
    "device_id": "id",
    "behavior_code": "code",
    "level": "int",
    "actions": "actions",
    "occurred_at": "moment",
    "tz": "zone",
    "location": "text",
    "motivation": "text",
    "others_involved": "text",
    "note": "text",
    "iss_days": "float",
    "removal_minutes": "int",
    "iss_safeguards": "safeguards",
    "iss_recorded_as_removal": "bool",
    "advised_level": "int",
    "progression_bypassed": "bool",
    "bypass_reason": "text",
    "group_id": "id",
    "created_at": "moment",
    "updated_at": "moment",
    "voided_at": "moment",
    "void_reason": "text",
}
TAB_SHAPES: dict[str, Shape] = {
    "student_id": "id",
    "staff_id": "id",
    "device_id": "id",
    "kind": "choice",
    "started_by": "choice",
    "started_at": "moment",
    "ended_at": "moment",
    "returned_ready": "bool",
    "reflection": "text",
    "incident_id": "id",
    "note": "text",
    "tz": "zone",
    "voided_at": "moment",
    "void_reason": "text",
}
FOLLOW_UP_SHAPES: dict[str, Shape] = {
    "incident_id": "id",
    "kind": "choice",
    "created_at": "moment",
    "due_at": "moment",
    "done_at": "moment",
    "done_by": "id",
    "note": "text",
    "voided_at": "moment",
}
SUPPORT_REQUEST_SHAPES: dict[str, Shape] = {
    "school_id": "id",
    "requested_by": "id",
    "requested_by_name": "text",
    "device_id": "id",
    "room": "text",
    "section_id": "id",
    "student_ids": "ids",
    "urgency": "choice",
    "note": "text",
    "state": "choice",
    "accepted_by": "id",
    "accepted_by_name": "text",
    "accepted_at": "moment",
    "resolved_at": "moment",
    "outcome": "choice",
    "incident_id": "id",
    "created_at": "moment",
    "updated_at": "moment",
}
INTERVENTION_SHAPES: dict[str, Shape] = {
    "student_id": "id",
    "staff_id": "id",
    "device_id": "id",
    "behavior_code": "code",
    "kind": "choice",
    "kind_label": "text",
    "starts_on": "date",
    "review_on": "date",
    "incident_id": "id",
    "note": "text",
    "created_at": "moment",
    "updated_at": "moment",
    "voided_at": "moment",
    "void_reason": "text",
}
OFFICE_REFERRAL_SHAPES: dict[str, Shape] = {
    "student_id": "id",
    "staff_id": "id",
    "device_id": "id",
    "behavior_code": "code",
    "occurred_at": "moment",
    "tz": "zone",
    "location": "text",
    "note": "text",
    "decided_level": "int",
    "oss_days": "float",
    "alternatives": "texts",
    "decided_at": "moment",
    "created_at": "moment",
    "updated_at": "moment",
    "voided_at": "moment",
    "void_reason": "text",
}
REFERRAL_DECISION_FIELDS = frozenset({"decided_level", "oss_days", "alternatives", "decided_at"})
"""The office's decision on a referral: written by an administrator on the server only (R10)."""
SHAPES_BY_KIND: dict[str, dict[str, Shape]] = {
    "incident": INCIDENT_SHAPES,
    "tab": TAB_SHAPES,
    "follow_up": FOLLOW_UP_SHAPES,
    "support_request": SUPPORT_REQUEST_SHAPES,
    "intervention": INTERVENTION_SHAPES,
    "office_referral": OFFICE_REFERRAL_SHAPES,
}

INCIDENT_FIELDS = frozenset(INCIDENT_SHAPES)
TAB_FIELDS = frozenset(TAB_SHAPES)
FOLLOW_UP_FIELDS = frozenset(FOLLOW_UP_SHAPES)
SUPPORT_REQUEST_FIELDS = frozenset(SUPPORT_REQUEST_SHAPES)
INTERVENTION_FIELDS = frozenset(INTERVENTION_SHAPES)
OFFICE_REFERRAL_FIELDS = frozenset(OFFICE_REFERRAL_SHAPES)
FIELDS_BY_KIND: dict[str, frozenset[str]] = {
    kind: frozenset(shapes) for kind, shapes in SHAPES_BY_KIND.items()
}

REQUIRED_ON_CREATE: dict[str, frozenset[str]] = {
    "incident": frozenset(
        {
            "student_id",
            "staff_id",
            "device_id",
            "behavior_code",
            "level",
            "occurred_at",
            "tz",
            "created_at",
            "updated_at",
        }
    ),
    "tab": frozenset(
        {"student_id", "staff_id", "device_id", "kind", "started_by", "started_at", "tz"}
    ),
    "follow_up": frozenset({"incident_id", "kind", "created_at"}),
    "support_request": frozenset(
        {
            "school_id",
            "requested_by",
            "device_id",
            "urgency",
            "state",
            "created_at",
            "updated_at",
        }
    ),
    "intervention": frozenset(
        {
            "student_id",
            "staff_id",
            "device_id",
            "kind",
            "starts_on",
            "review_on",
            "created_at",
            "updated_at",
        }
    ),
    "office_referral": frozenset(
        {
            "student_id",
            "staff_id",
            "device_id",
            "behavior_code",
            "occurred_at",
            "tz",
            "created_at",
            "updated_at",
        }
    ),
}
"""What a record must carry when an upsert creates it: what a device needs to hold it."""

NOT_NULL: dict[str, frozenset[str]] = {
    "incident": REQUIRED_ON_CREATE["incident"]
    | {"actions", "note", "iss_recorded_as_removal", "progression_bypassed"},
    "tab": REQUIRED_ON_CREATE["tab"] | {"note"},
    "follow_up": REQUIRED_ON_CREATE["follow_up"] | {"note"},
    "support_request": REQUIRED_ON_CREATE["support_request"]
    | {"requested_by_name", "student_ids", "note"},
    "intervention": REQUIRED_ON_CREATE["intervention"] | {"kind_label", "note"},
    "office_referral": REQUIRED_ON_CREATE["office_referral"] | {"note"},
}
"""Fields that are never null (a device's column refuses NULL)."""

DEVICE_EXPORT_COLUMNS = ("record_type", "id", *dict.fromkeys([*INCIDENT_SHAPES, *TAB_SHAPES]))
"""A teacher's own export of their records (``classlog export``): every field of an incident
and of a Take a Break."""

SAFEGUARDS = ("school_work", "special_education_services", "peer_without_disability")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def row_to_wire(kind: str, row: Any) -> dict[str, Any]:
    """A device row of ``kind`` as the wire fields that may travel (by each field's shape)."""
    fields: dict[str, Any] = {}
    for name, shape in SHAPES_BY_KIND[kind].items():
        value = row[name]
        if shape in ("actions", "ids"):
            value = json.loads(value) if value else []
        elif shape in ("safeguards", "texts"):
            value = json.loads(value) if value else None
        elif shape == "bool" and value is not None:
            value = bool(value)
        fields[name] = value
    return fields


def wire_to_column(kind: str, name: str, value: Any) -> Any:
    """A wire value of one field as the device's column stores it."""
    shape = SHAPES_BY_KIND[kind][name]
    if shape in ("actions", "ids"):
        return _json(value if value is not None else [])
    if shape in ("safeguards", "texts"):
        return None if value is None else _json(value)
    if shape == "bool":
        return None if value is None else int(bool(value))
    return value
