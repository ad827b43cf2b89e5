"""The fields of each synced record kind, written out by hand from DESIGN.md (sections 2, 3, 5)
and the models' documentation in schema/models.py, as a person reads them: every field of
``Incident``, ``TabEvent``, ``FollowUp``, ``Intervention`` and ``OfficeReferral`` travels
except the record's id (the op carries it) and ``origin`` (where this device got the record
from, meaningful only on that device).

Deliberately not imported from the code: tests compare the code against these lists, so a field
dropped from (or added to) the synced set in one place fails a test instead of passing quietly.
"""

from __future__ import annotations

INCIDENT = frozenset(
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
        "removal_minutes",
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
TAB = frozenset(
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
FOLLOW_UP = frozenset(
    {
        "incident_id",
        "kind",
        "created_at",
        "due_at",
        "done_at",
        "done_by",
        "note",
        "voided_at",
    }
)
SUPPORT_REQUEST = frozenset(
    {
        "school_id",
        "requested_by",
        "requested_by_name",
        "device_id",
        "room",
        "section_id",
        "student_ids",
        "urgency",
        "note",
        "state",
        "accepted_by",
        "accepted_by_name",
        "accepted_at",
        "resolved_at",
        "outcome",
        "incident_id",
        "created_at",
        "updated_at",
    }
)
"""A support request (DESIGN R9): who called, from where, for whom, how urgently, and its
state; never a behavior or a level."""
INTERVENTION = frozenset(
    {
        "student_id",
        "staff_id",
        "device_id",
        "behavior_code",
        "kind",
        "kind_label",
        "starts_on",
        "review_on",
        "incident_id",
        "note",
        "created_at",
        "updated_at",
        "voided_at",
        "void_reason",
    }
)
OFFICE_REFERRAL = frozenset(
    {
        "student_id",
        "staff_id",
        "device_id",
        "behavior_code",
        "occurred_at",
        "tz",
        "location",
        "note",
        "decided_level",
        "oss_days",
        "alternatives",
        "decided_at",
        "created_at",
        "updated_at",
        "voided_at",
        "void_reason",
    }
)
BY_KIND: dict[str, frozenset[str]] = {
    "incident": INCIDENT,
    "tab": TAB,
    "follow_up": FOLLOW_UP,
    "support_request": SUPPORT_REQUEST,
    "intervention": INTERVENTION,
    "office_referral": OFFICE_REFERRAL,
}
NEVER_SYNCED = ("id", "origin", "hlc", "field_hlc")
"""Device bookkeeping that no wire op may carry as a field."""
