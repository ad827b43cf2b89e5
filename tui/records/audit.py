"""The audit trail in sentences: "Marisol Alvarez changed the level from 2 to 1 and took off
Support staff called." instead of a dump of field names and raw values."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from schema.models import ACTION_LABELS, TAB_KIND_LABELS, Action, TabKind
from tui.formatting import day_and_clock
from tui.text import one_line

QUOTE_WIDTH = 60
FIELD_NAMES = {
    "behavior_code": "the behavior",
    "location": "the location",
    "motivation": "the perceived motivation",
    "others_involved": "who else was involved",
    "group_id": "the group",
    "advised_level": "the advised level",
}


def _quoted(text: Any) -> str:
    words = one_line(str(text))
    if len(words) > QUOTE_WIDTH:
        words = words[: QUOTE_WIDTH - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return f"\N{LEFT DOUBLE QUOTATION MARK}{words}\N{RIGHT DOUBLE QUOTATION MARK}"


def _actions(value: Any) -> list[Action]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [Action(item) for item in value if item in Action.__members__.values()]


def _labels(actions: list[Action]) -> str:
    return ", ".join(ACTION_LABELS[action] for action in actions) or "none"


def _moment(value: Any, zone: tzinfo) -> str:
    try:
        return day_and_clock(datetime.fromisoformat(str(value)), zone)
    except ValueError:
        return one_line(str(value))


def _plain(value: Any) -> str:
    return "(none)" if value in (None, "") else one_line(str(value))


def _change(name: str, old: Any, new: Any, zone: tzinfo) -> str:
    if name == "level":
        return f"changed the level from {old} to {new}"
    if name == "actions":
        before, after = _actions(old), _actions(new)
        added = [action for action in after if action not in before]
        removed = [action for action in before if action not in after]
        parts = []
        if added:
            parts.append(f"ticked {_labels(added)}")
        if removed:
            parts.append(f"took off {_labels(removed)}")
        return " and ".join(parts) or "kept the same actions"
    if name == "occurred_at":
        return f"changed the time from {_moment(old, zone)} to {_moment(new, zone)}"
    if name == "note":
        return f"changed the note to {_quoted(new)}" if new else "removed the note"
    if name == "iss_days":
        if new is None:
            return "took off the In-School Suspension length"
        return f"set the In-School Suspension to {'a full day' if new >= 1 else 'a half day'}"
    if name == "removal_minutes":
        if new is None:
            return "took off the removal's length"
        return f"set the removal's length to {new} minutes"
    if name == "iss_safeguards":
        return "answered the three ISS safeguards"
    if name == "iss_recorded_as_removal":
        return (
            "recorded the ISS as a removal from class (safeguards not all met)"
            if new
            else "recorded it as an ISS again"
        )
    if name == "progression_bypassed":
        return "marked it as going a level higher early" if new else "cleared the early-level mark"
    if name == "bypass_reason":
        return f"gave the reason {_quoted(new)}" if new else "removed the reason"
    label = FIELD_NAMES.get(name, name.replace("_", " "))
    return f"changed {label} from {_plain(old)} to {_plain(new)}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def audit_sentence(
    row: dict[str, Any], who: str | None, zone: tzinfo, follow_up: str | None = None
) -> str:
    """One audit row as a sentence (without its time). ``who`` is the staff member's name,
    ``follow_up`` the follow-up's name for a row about one."""
    action = row["action"]
    changes: dict[str, Any] = row["changes"] or {}
    subject = who or "Someone"
    if action == "merge":
        fields = sorted({*changes.get("lost_local", {}), *changes.get("lost_incoming", {})})
        names = _join([FIELD_NAMES.get(name, name.replace("_", " ")) for name in fields])
        return f"Sync met a change from the district to {names or 'this record'}: both are kept."
    if row["entity"] == "follow_up":
        what = _quoted(follow_up) if follow_up else "a follow-up"
        if action == "done":
            note = changes.get("note")
            return f"{subject} marked the follow-up {what} done" + (
                f": {_quoted(note)}." if note else "."
            )
        return f"{subject} changed the follow-up {what} ({action})."
    if row["entity"] == "tab":
        if action == "start":
            kind = changes.get("kind")
            label = TAB_KIND_LABELS[TabKind(kind)] if kind in set(TabKind) else "a break"
            return f"{subject} started a Take a Break: {label}."
        if action == "stop":
            ready = "returned ready" if changes.get("returned_ready") else "not ready on return"
            return f"{subject} ended the break: {ready}."
        if action == "void":
            return f"{subject} voided it: {_quoted(changes.get('reason', ''))}."
    if action == "create":
        level = changes.get("level")
        return f"{subject} logged it" + (f" at Level {level}." if level else ".")
    if action == "void":
        return f"{subject} voided it: {_quoted(changes.get('reason', ''))}."
    if action == "edit":
        parts = []
        ordered = sorted(changes.items(), key=lambda item: item[0] != "level")
        for name, value in ordered:
            if isinstance(value, list) and len(value) == 2:
                parts.append(_change(name, value[0], value[1], zone))
            else:
                parts.append(f"changed {FIELD_NAMES.get(name, name.replace('_', ' '))}")
        return f"{subject} {_join(parts) or 'saved it unchanged'}."
    return f"{subject}: {action}."
