"""Which fields of each record kind may travel between a device and the server.

Kept apart from the pydantic wire models so that the device store can use them without paying for
building those models at start-up.
"""

from __future__ import annotations

INCIDENT_FIELDS = frozenset(
    {
        "student_id",
        "staff_id",
        "device_id",
        "behavior_code",
        "level",
        "actions",
        "occurred_at",
        "tz",
        "location",
        "motivation",
        "others_involved",
        "note",
        "iss_days",
        "iss_safeguards",
        "iss_recorded_as_removal",
        "advised_level",
        "progression_bypassed",
        "bypass_reason",
        "group_id",
        "created_at",
        "updated_at",
        "voided_at",
        "void_reason",
    }
)
TAB_FIELDS = frozenset(
    {
        "student_id",
        "staff_id",
        "device_id",
        "kind",
        "started_by",
        "started_at",
        "ended_at",
        "returned_ready",
        "reflection",
        "incident_id",
        "note",
        "tz",
        "voided_at",
        "void_reason",
    }
)
FOLLOW_UP_FIELDS = frozenset(
    {
        "incident_id",
        "kind",
        "created_at",
        "done_at",
        "done_by",
        "note",
        "voided_at",
    }
)
FIELDS_BY_KIND: dict[str, frozenset[str]] = {
    "incident": INCIDENT_FIELDS,
    "tab": TAB_FIELDS,
    "follow_up": FOLLOW_UP_FIELDS,
}
