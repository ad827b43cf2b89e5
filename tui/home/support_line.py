"""The teacher's line about their call for support, in ``status_words``' words.

Hidden until the device has a call. The words come from the store's ``status_words`` alone, so
the line never says more than the server confirmed: "sending…", then "sent, waiting for a
responder" once the server acknowledged it, "accepted by NAME at 14:02", "resolved"; after
5 s without the server's word, "not sent: call the office (still trying)", shown as a warning.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from tui.text import literal, one_line

if TYPE_CHECKING:
    from schema.support import SupportRequest

ALARM_WORDS = ("not sent", "expired")
NOT_SENT = "not sent: call the office (still trying)"
"""The store's words for a call the server has not confirmed in time (status_words)."""


class SupportLine(Static):
    DEFAULT_CSS = """
    SupportLine {
        height: auto;
        max-height: 2;
        padding: 0 1;
        display: none;
    }
    SupportLine.-alarm {
        background: $error;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.words: str | None = None

    def show_request(
        self, request: SupportRequest | None, now: datetime, *, unsendable: bool = False
    ) -> None:
        """``unsendable``: the call is not confirmed and nothing can send it now (no daemon, or
        offline): "not sent" is said at once rather than after the 5 s of "sending…"."""
        if request is None:
            if self.display:
                self.display = False
            self.words = None
            return
        from schema.support import status_words

        words = status_words(request, now)
        if unsendable and words.startswith("sending"):
            words = NOT_SENT
        if words == self.words and self.display:
            return
        self.words = words
        alarm = any(words.startswith(start) for start in ALARM_WORDS)
        self.set_class(alarm, "-alarm")
        room = one_line(request.room) if not request.student_ids else ""
        self.update(
            Content.assemble(
                ("Support call", "bold"),
                " for " if room else "",
                literal(room),
                ": ",
                literal(one_line(words), "bold" if alarm else ""),
                "  (ctrl+x cancels)" if request.state in {"open", "accepted"} else "",
            ),
            layout=False,
        )
        if not self.display:
            self.display = True
