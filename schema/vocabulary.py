"""The plan's fixed vocabularies: actions, Take a Break kinds, follow-up kinds, locations.

Plain enums and tuples, no pydantic: the teacher's first screen words its rows with these before
the models load. ``schema.models`` re-exports every name.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTION_LABELS",
    "FOLLOW_UP_LABELS",
    "LEVEL_2_ONLY_ACTIONS",
    "LOCATIONS",
    "MOTIVATIONS",
    "OTHERS_INVOLVED",
    "TAB_KIND_LABELS",
    "Action",
    "FollowUpKind",
    "StartedBy",
    "TabKind",
]


class Action(StrEnum):
    """What staff did. Removal, ISS and calling support staff belong to Level 2 only (R2)."""

    REDIRECT = "redirect"
    RETEACH = "reteach"
    PROXIMITY = "proximity"
    PRIVATE_CONFERENCE = "private_conference"
    SEAT_CHANGE = "seat_change"
    TAKE_A_BREAK = "take_a_break"
    FAMILY_CONTACT = "family_contact"
    SUPPORT_STAFF = "support_staff"
    REMOVAL = "removal"
    ISS = "iss"


ACTION_LABELS: dict[Action, str] = {
    Action.REDIRECT: "Redirect",
    Action.RETEACH: "Reteach expectation",
    Action.PROXIMITY: "Proximity",
    Action.PRIVATE_CONFERENCE: "Private conference",
    Action.SEAT_CHANGE: "Seat change",
    Action.TAKE_A_BREAK: "Take a Break",
    Action.FAMILY_CONTACT: "Family contact",
    Action.SUPPORT_STAFF: "Support staff called (mobile response)",
    Action.REMOVAL: "Removal from class",
    Action.ISS: "In-School Suspension (up to one day)",
}

LEVEL_2_ONLY_ACTIONS = frozenset({Action.SUPPORT_STAFF, Action.REMOVAL, Action.ISS})

LOCATIONS = (
    "Classroom",
    "Hallway",
    "Cafeteria",
    "Gym",
    "Playground",
    "Bathroom/Restroom",
    "Library",
    "Common area",
    "Bus",
    "Bus loading zone",
    "Office",
    "Parking lot",
    "Special event/Assembly",
    "Other",
)
MOTIVATIONS = (
    "Obtain peer attention",
    "Obtain adult attention",
    "Obtain items/activities",
    "Avoid task or activity",
    "Avoid peer(s)",
    "Avoid adult(s)",
    "Unknown",
    "Other",
)
OTHERS_INVOLVED = ("None", "Peers", "Staff", "Teacher", "Substitute", "Unknown", "Other")


class TabKind(StrEnum):
    """Take a Break is a support, never discipline (R3)."""

    SPOT = "spot"
    OUT = "out"
    OUT_AND_BACK = "out_and_back"


TAB_KIND_LABELS: dict[TabKind, str] = {
    TabKind.SPOT: "In-class spot",
    TabKind.OUT: "TAB Out (buddy room)",
    TabKind.OUT_AND_BACK: "TAB Out and Back (with reflection)",
}


class StartedBy(StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"


class FollowUpKind(StrEnum):
    """The plan's minimum follow-ups (R6)."""

    FAMILY_CONTACT = "family_contact"
    CORRECTIVE_FEEDBACK = "corrective_feedback"
    STUDENT_VERSION = "student_version"
    REPAIR_PLAN = "repair_plan"


FOLLOW_UP_LABELS: dict[FollowUpKind, str] = {
    FollowUpKind.FAMILY_CONTACT: "Contact the family",
    FollowUpKind.CORRECTIVE_FEEDBACK: "Give corrective feedback",
    FollowUpKind.STUDENT_VERSION: "Hear the student's version (due process)",
    FollowUpKind.REPAIR_PLAN: "Make a repair-and-reflection plan",
}
