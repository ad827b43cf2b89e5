"""The plan's fixed vocabularies: actions, Take a Break kinds, follow-up kinds, locations.

Plain enums and tuples, no pydantic: the teacher's first screen words its rows with these before
the models load. ``schema.models`` re-exports every name.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTION_LABELS",
    "FOLLOW_UP_DUE_SCHOOL_DAYS",
    "FOLLOW_UP_LABELS",
    "INTERVENTION_LABELS",
    "INTERVENTION_REVIEW_DAYS",
    "LEVEL_2_ONLY_ACTIONS",
    "LOCATIONS",
    "MOTIVATIONS",
    "OTHERS_INVOLVED",
    "RESPONDER_ACTIONS",
    "TAB_KIND_LABELS",
    "TITLE_IX_BARRED_ACTIONS",
    "Action",
    "FollowUpKind",
    "InterventionKind",
    "StartedBy",
    "TabKind",
]


class Action(StrEnum):
    """What staff did. Removal, ISS and an additional adult responding belong to Level 2 only
    (R2); a Level 2 names who responded (one of ``RESPONDER_ACTIONS``)."""

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
    MOBILE_RESPONSE = "mobile_response"
    ANOTHER_ADULT = "another_adult"


ACTION_LABELS: dict[Action, str] = {
    Action.REDIRECT: "Redirect",
    Action.RETEACH: "Reteach expectation",
    Action.PROXIMITY: "Proximity",
    Action.PRIVATE_CONFERENCE: "Private conference",
    Action.SEAT_CHANGE: "Seat change",
    Action.TAKE_A_BREAK: "Take a Break",
    Action.FAMILY_CONTACT: "Family contact",
    Action.SUPPORT_STAFF: "Support staff responded",
    Action.REMOVAL: "Removal from class",
    Action.ISS: "In-School Suspension (up to one day)",
    Action.MOBILE_RESPONSE: "Mobile response staff responded",
    Action.ANOTHER_ADULT: "Another adult responded",
}

RESPONDER_ACTIONS = frozenset({Action.MOBILE_RESPONSE, Action.SUPPORT_STAFF, Action.ANOTHER_ADULT})
"""Who responded to a Level 2: the additional staff member the plan's Level 2 means (R2, R9)."""

LEVEL_2_ONLY_ACTIONS = frozenset({*RESPONDER_ACTIONS, Action.REMOVAL, Action.ISS})

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
    TITLE_IX_COORDINATOR = "title_ix_coordinator"


FOLLOW_UP_LABELS: dict[FollowUpKind, str] = {
    FollowUpKind.FAMILY_CONTACT: "Contact the family",
    FollowUpKind.CORRECTIVE_FEEDBACK: "Give corrective feedback",
    FollowUpKind.STUDENT_VERSION: "Hear the student's version (due process)",
    FollowUpKind.REPAIR_PLAN: "Make a repair-and-reflection plan",
    FollowUpKind.TITLE_IX_COORDINATOR: "Title IX Coordinator contacted",
}

FOLLOW_UP_DUE_SCHOOL_DAYS: dict[FollowUpKind, int] = {
    FollowUpKind.FAMILY_CONTACT: 1,
    FollowUpKind.CORRECTIVE_FEEDBACK: 1,
    FollowUpKind.STUDENT_VERSION: 1,
    FollowUpKind.REPAIR_PLAN: 3,
    FollowUpKind.TITLE_IX_COORDINATOR: 0,
}
"""By default each follow-up is due by the end of this many school days after the record's day
(0: the same day). Family contact is "prompt": the end of the next school day (R6). A district
overrides any of them with the ``follow_up_due_days`` setting."""

TITLE_IX_BARRED_ACTIONS = frozenset({Action.REMOVAL, Action.ISS})
"""No disciplinary response or sanction until the Title IX process ends (R4)."""


class InterventionKind(StrEnum):
    """What the plan calls an intervention (R5). Consequences (removal, ISS), routine responses
    (redirect, proximity) and ticked-off follow-ups are not interventions."""

    RETEACHING = "reteaching"
    MONITORED_STRATEGY = "monitored_strategy"
    BEHAVIOR_ANALYSIS = "behavior_analysis"
    LONG_TERM_SUPPORT = "long_term_support"
    STUDENT_SERVICES_PLAN = "student_services_plan"
    DISTRICT = "district"


INTERVENTION_LABELS: dict[InterventionKind, str] = {
    InterventionKind.RETEACHING: "Reteaching",
    InterventionKind.MONITORED_STRATEGY: "2-week monitored strategy",
    InterventionKind.BEHAVIOR_ANALYSIS: "Behavior analysis",
    InterventionKind.LONG_TERM_SUPPORT: "Long-term support",
    InterventionKind.STUDENT_SERVICES_PLAN: "Plan with Student Services",
    InterventionKind.DISTRICT: "The district's own intervention",
}

INTERVENTION_REVIEW_DAYS: dict[InterventionKind, int] = {
    InterventionKind.RETEACHING: 7,
    InterventionKind.MONITORED_STRATEGY: 14,
    InterventionKind.BEHAVIOR_ANALYSIS: 14,
    InterventionKind.LONG_TERM_SUPPORT: 30,
    InterventionKind.STUDENT_SERVICES_PLAN: 30,
    InterventionKind.DISTRICT: 14,
}
"""Default days from the start to the review date, when none is given."""
