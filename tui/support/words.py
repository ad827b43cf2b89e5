"""How a mobile responder's screens describe a support request (names shown literally)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.content import Content

from tui.text import literal, one_line

if TYPE_CHECKING:
    from schema.support import SupportRequest
    from tui.app import ClasslogApp


def minutes_waiting(request: SupportRequest, now: datetime) -> str:
    minutes = max(int((now - request.created_at).total_seconds() // 60), 0)
    return "just now" if minutes == 0 else f"{minutes} min"


def is_mine(request: SupportRequest, staff_id: str | None) -> bool:
    return staff_id is not None and request.accepted_by == staff_id


def responder_state(request: SupportRequest, staff_id: str | None) -> str:
    """Where the request stands for this responder, true to what the server said."""
    if request.lost_to:
        return f"{one_line(request.lost_to)} took it first"
    if request.pending_accept:
        return "accepting\N{HORIZONTAL ELLIPSIS}"
    if request.state == "open":
        return "waiting for a responder"
    if request.state == "accepted":
        if is_mine(request, staff_id):
            return "you are on your way"
        return f"taken by {one_line(request.accepted_by_name or request.accepted_by or '?')}"
    if request.state == "expired":
        return "expired"
    return request.state


def who_and_where(request: SupportRequest, classlog: ClasslogApp) -> Content:
    """Room, teacher and student(s): "Science 7 · Marisol Alvarez · for Maya Lopez"."""
    room = one_line(request.room) or "room not given"
    teacher = one_line(request.requested_by_name) or one_line(request.requested_by)
    parts = [literal(room, "bold"), Content(" \N{MIDDLE DOT} "), literal(teacher)]
    if request.student_ids:
        names = ", ".join(classlog.student_label(student) for student in request.student_ids)
        parts += [Content(" \N{MIDDLE DOT} for "), literal(one_line(names), "bold")]
    else:
        parts.append(Content(" \N{MIDDLE DOT} the room"))
    return Content.assemble(*parts)


def request_line(request: SupportRequest, classlog: ClasslogApp, now: datetime) -> Content:
    """One line of the mobile home's list of calls."""
    urgency = "NOW" if request.urgency == "now" else "when you can"
    note = f' "{one_line(request.note)}"' if request.note else ""
    return Content.assemble(
        (f"{minutes_waiting(request, now):>8}  ", "bold"),
        (f"{urgency}  ", "bold" if request.urgency == "now" else ""),
        who_and_where(request, classlog),
        literal(note),
        "  \N{EM DASH} ",
        literal(responder_state(request, classlog.reader.staff_id)),
    )
