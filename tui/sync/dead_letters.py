"""Dead letters: ops the server refused for good. They never block the queue (issue 4); this
screen says what each was, whose record, why it was refused and when."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schema.rows import from_text
from tui.appref import classlog_of
from tui.formatting import day_and_clock
from tui.text import literal, one_line

if TYPE_CHECKING:
    from datetime import tzinfo

    from tui.app import ClasslogApp

KIND_WORDS = {
    "incident": "Intervention record",
    "tab": "Take a Break",
    "follow_up": "Follow-up",
}
NOT_ON_DEVICE = "record no longer on this device"


def dead_letter_line(letter: dict[str, Any], student: str | None, zone: tzinfo) -> Content:
    """Two lines for one refused op: what and whose, then why and when. The reason came from
    the server and the name from a roster: both are shown literally."""
    kind = KIND_WORDS.get(letter["kind"], one_line(letter["kind"]))
    if letter["op"] == "retract":
        kind += " (removal)"
    at = from_text(letter["at"])
    when = day_and_clock(at, zone) if at is not None else "unknown time"
    return Content.assemble(
        (kind, "bold"),
        " \N{EM DASH} ",
        literal(one_line(student)) if student is not None else NOT_ON_DEVICE,
        f" \N{MIDDLE DOT} {when}\n    Refused: ",
        literal(one_line(letter["reason"])),
    )


class DeadLettersScreen(Screen[None]):
    """Every op the server refused, newest first."""

    HELP = (
        "Changes the district refused for good. They are kept on this "
        "device and never hold back the rest of the queue. Each shows what it was, the student "
        "if the record is still on this device, the server's reason, and when it was refused. "
        "Ask your district administrator about them."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="dead_letters.back", tooltip="Back to home"),
    ]

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id="dead-letters-title", markup=False)
        yield OptionList(id="dead-letters-list", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        store = self.classlog.store
        zone = store.timezone
        letters = store.dead_letters()
        title = Content.assemble(("Refused by the district: ", "bold"), str(len(letters)))
        if not letters:
            title += Content(" \N{MIDDLE DOT} nothing was refused")
        self.query_one("#dead-letters-title", Static).update(title)
        option_list = self.query_one(OptionList)
        option_list.set_options(
            Option(
                dead_letter_line(
                    letter,
                    None
                    if letter["student_id"] is None
                    else self.classlog.student_label(letter["student_id"]),
                    zone,
                ),
                id=letter["op_id"],
            )
            for letter in letters
        )
        option_list.focus()

    def action_back(self) -> None:
        self.dismiss(None)
