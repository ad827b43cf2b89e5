"""How the app words things: levels, actions, kinds, times and ages.

Nothing is shown by colour alone: a level is always the word "Level 1" or "Level 2", a state is
always a word or a symbol beside any colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from schema.places import Place, RecordPlace
from schema.rows import StudentRow
from schema.vocabulary import (
    ACTION_LABELS,
    FOLLOW_UP_LABELS,
    TAB_KIND_LABELS,
    Action,
    FollowUpKind,
    StartedBy,
    TabKind,
)
from tui.text import one_line

TAB_KIND_SHORT: dict[TabKind, str] = {
    TabKind.SPOT: "in-class spot",
    TabKind.OUT: "TAB Out",
    TabKind.OUT_AND_BACK: "TAB Out and Back",
}
STARTED_BY_WORDS: dict[StartedBy, str] = {
    StartedBy.TEACHER: "started by teacher",
    StartedBy.STUDENT: "started by student",
}


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 break', '2 breaks', '0 breaks'."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def level_words(level: int) -> str:
    return f"Level {level}"


def student_name(student: StudentRow | None, fallback: str = "unknown student") -> str:
    """A student's display name, cleaned of control characters (still to be shown literally)."""
    if student is None:
        return fallback
    return one_line(student.display_name) or one_line(student.sourced_id)


ACTION_SHORT: dict[Action, str] = {
    Action.REDIRECT: "Redirect",
    Action.RETEACH: "Reteach",
    Action.PROXIMITY: "Proximity",
    Action.PRIVATE_CONFERENCE: "Conference",
    Action.SEAT_CHANGE: "Seat change",
    Action.TAKE_A_BREAK: "Take a Break",
    Action.FAMILY_CONTACT: "Family contact",
    Action.SUPPORT_STAFF: "Support staff",
    Action.REMOVAL: "Removal",
    Action.ISS: "ISS",
    Action.MOBILE_RESPONSE: "Mobile response",
    Action.ANOTHER_ADULT: "Another adult",
}
"""Action names for narrow table cells."""


def short_action_words(actions: Iterable[Action]) -> str:
    names = [ACTION_SHORT[action] for action in actions]
    return ", ".join(names) if names else "none"


def action_words(actions: Iterable[Action]) -> str:
    names = [ACTION_LABELS[action] for action in actions]
    return ", ".join(names) if names else "no action recorded"


def follow_up_words(kind: FollowUpKind) -> str:
    return FOLLOW_UP_LABELS[kind]


def clock_text(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def day_and_clock(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%a %b %d %H:%M")


def short_day(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%b %d")


def elapsed_mm_ss(started_at: datetime, now: datetime) -> str:
    """A running timer: mm:ss, or h:mm:ss past an hour; never negative."""
    seconds = max(int((now - started_at).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def age_words(delta: timedelta) -> str:
    """A rough age: '40 s', '12 min', '3 h', '2 d'."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


TAB_KIND_LABELS_BY_NUMBER: dict[int, tuple[TabKind, str]] = {
    1: (TabKind.SPOT, TAB_KIND_LABELS[TabKind.SPOT]),
    2: (TabKind.OUT, TAB_KIND_LABELS[TabKind.OUT]),
    3: (TabKind.OUT_AND_BACK, TAB_KIND_LABELS[TabKind.OUT_AND_BACK]),
}
"""The keys 1, 2, 3 for the kinds of break, on home and in the start dialog."""


def place_words(place: RecordPlace) -> str:
    """Where a record is, in words a teacher can act on (``schema.places``)."""
    reason = one_line(place.reason) if place.reason else "no reason given"
    return {
        Place.DEVICE_ONLY: "kept on this device (Level 1)",
        Place.WAITING: "waiting to sync",
        Place.AT_DISTRICT: "at the district",
        Place.REFUSED: f"refused by the district: {reason}",
        Place.NOT_SENT: f"not sent, refused on this device: {reason}",
        Place.WITHDRAWING: "being withdrawn from the district (waiting to sync)",
        Place.WITHDRAWN: "withdrawn from the district",
        Place.WITHDRAWAL_REFUSED: f"still at the district, the withdrawal was refused: {reason}",
    }[place.place]
