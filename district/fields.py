"""Checks on the values of a synced record's fields, so the server stores nothing an export or
a summary cannot read. The wire model already limits the field names to each kind's set."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import JsonValue

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("student_id", "behavior_code", "level", "occurred_at"),
    "tab": ("student_id", "kind", "started_at"),
    "follow_up": ("incident_id", "kind"),
}
"""What a record must carry when an upsert creates it (or re-creates it after a tombstone)."""

MAX_TEXT_CHARS = 10_000


def _text(value: JsonValue) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT_CHARS


def _identifier(value: JsonValue) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255 and value.strip() == value


def _moment(value: JsonValue) -> bool:
    if not isinstance(value, str) or len(value) > 64:
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None and parsed.utcoffset() is not None


def _boolean(value: JsonValue) -> bool:
    return isinstance(value, bool)


def _integer(value: JsonValue) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: JsonValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text_list(value: JsonValue) -> bool:
    return isinstance(value, list) and all(_identifier(item) for item in value)


def _object(value: JsonValue) -> bool:
    return isinstance(value, dict)


Check = Callable[[JsonValue], bool]

_RULES: dict[str, tuple[Check, bool, str]] = {
    "student_id": (_identifier, False, "a student id"),
    "behavior_code": (_identifier, False, "a behavior code"),
    "level": (_integer, False, "an integer"),
    "occurred_at": (_moment, False, "a date-time with a time zone"),
    "started_at": (_moment, False, "a date-time with a time zone"),
    "created_at": (_moment, True, "a date-time with a time zone"),
    "updated_at": (_moment, True, "a date-time with a time zone"),
    "ended_at": (_moment, True, "a date-time with a time zone"),
    "done_at": (_moment, True, "a date-time with a time zone"),
    "voided_at": (_moment, True, "a date-time with a time zone"),
    "actions": (_text_list, False, "a list of action names"),
    "iss_days": (_number, True, "a number of days"),
    "removal_minutes": (_integer, True, "a whole number of minutes"),
    "due_at": (_moment, True, "a date-time with a time zone"),
    "advised_level": (_integer, True, "an integer"),
    "iss_recorded_as_removal": (_boolean, True, "true or false"),
    "progression_bypassed": (_boolean, True, "true or false"),
    "returned_ready": (_boolean, True, "true or false"),
    "iss_safeguards": (_object, True, "an object"),
    "kind": (_identifier, False, "a kind name"),
    "incident_id": (_identifier, True, "a record id"),
    "staff_id": (_identifier, True, "a staff id"),
    "device_id": (_identifier, True, "a device id"),
    "group_id": (_identifier, True, "an id"),
}


def field_problem(fields: Mapping[str, JsonValue]) -> str | None:
    """The first field whose value is of the wrong shape, described; None when all are fine.
    Fields without a rule are optional text."""
    for name, value in fields.items():
        rule = _RULES.get(name)
        if rule is None:
            if value is None or (type(value) is str and len(value) <= MAX_TEXT_CHARS):
                continue
            return f"field {name} must be text"
        check, nullable, expected = rule
        if value is None:
            if not nullable:
                return f"field {name} must not be null"
            continue
        if not check(value):
            return f"field {name} must be {expected}"
    return None


def missing_fields(kind: str, fields: Mapping[str, JsonValue]) -> list[str]:
    return [name for name in REQUIRED_FIELDS[kind] if fields.get(name) is None]
