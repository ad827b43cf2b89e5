"""Step 4 of the log flow (optional): location, time, perceived motivation, others involved, note.

The lists are SWIS-compatible (``schema.models``). The time defaults to now; an earlier time
backdates the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Select, Static

from schema.errors import UserError
from schema.models import LOCATIONS, MOTIVATIONS, OTHERS_INVOLVED
from tui.appref import classlog_of
from tui.log.behavior import subject_line

if TYPE_CHECKING:
    from tui.app import ClasslogApp
    from tui.log.draft import LogDraft

TIME_FORMATS = ("%H:%M", "%Y-%m-%d %H:%M")
FUTURE_TOLERANCE = timedelta(minutes=5)


class TimeError(UserError, ValueError):
    """A time the teacher typed that cannot be used."""


def parse_time(text: str, now: datetime, zone: tzinfo) -> datetime:
    """'HH:MM' today, or 'YYYY-MM-DD HH:MM', in the device's zone; never in the future."""
    value = text.strip()
    local_now = now.astimezone(zone)
    for form in TIME_FORMATS:
        try:
            parsed = datetime.strptime(value, form)  # noqa: DTZ007 - zone attached below
        except ValueError:
            continue
        if form == "%H:%M":
            parsed = datetime.combine(local_now.date(), parsed.time())
        moment = parsed.replace(tzinfo=zone)
        if moment > now + FUTURE_TOLERANCE:
            raise TimeError("That time is in the future: a record can only be backdated.")
        return moment
    raise TimeError("Write the time as HH:MM (today) or YYYY-MM-DD HH:MM.")


@dataclass(frozen=True)
class Details:
    occurred_at: datetime | None
    location: str | None
    motivation: str | None
    others_involved: str | None
    note: str
    save: bool


def _select(options: tuple[str, ...], value: str | None, select_id: str) -> Select[str]:
    return Select(
        [(option, option) for option in options],
        prompt="(not given)",
        value=value if value in options else Select.NULL,
        id=select_id,
        compact=True,
    )


class DetailsScreen(Screen[Details | None]):
    """The optional details of a record being logged."""

    HELP = (
        "Tab moves between fields. Enter on a list opens it. The time is now unless you change "
        "it (HH:MM for today, or YYYY-MM-DD HH:MM). ctrl+s saves the record; Esc goes back to "
        "the level and actions, keeping what you entered."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "finish(True)",
            "Save record",
            id="details.save",
            priority=True,
            tooltip="Save the record with these details",
        ),
        Binding(
            "escape",
            "finish(False)",
            "Back",
            id="details.back",
            tooltip="Back to level and actions, keeping these details",
        ),
    ]

    def __init__(self, draft: LogDraft) -> None:
        super().__init__()
        self.draft = draft
        self._shown_now = ""

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        draft = self.draft
        zone = self.classlog.store.timezone
        when = draft.occurred_at or self.classlog.now()
        self._shown_now = "" if draft.occurred_at else when.astimezone(zone).strftime("%H:%M")
        time_text = when.astimezone(zone).strftime("%H:%M")
        yield Static(
            Content.assemble(("Details (optional)  ", "bold"), subject_line(draft.students)),
            id="details-title",
            markup=False,
        )
        with VerticalScroll(id="details-form"):
            yield Label("Time (HH:MM today, or YYYY-MM-DD HH:MM to backdate)")
            yield Input(time_text, id="details-time", compact=True)
            yield Label("Location")
            yield _select(LOCATIONS, draft.location, "details-location")
            yield Label("Perceived motivation")
            yield _select(MOTIVATIONS, draft.motivation, "details-motivation")
            yield Label("Others involved")
            yield _select(OTHERS_INVOLVED, draft.others_involved, "details-others")
            yield Label("Note")
            yield Input(
                draft.note,
                placeholder="What happened (optional)",
                max_length=4000,
                id="details-note",
                compact=True,
            )
            yield Static(id="details-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#details-location", Select).focus()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    def _value(self, select_id: str) -> str | None:
        value = self.query_one(select_id, Select).value
        return value if isinstance(value, str) else None

    def action_finish(self, save: bool) -> None:
        time_text = self.query_one("#details-time", Input).value.strip()
        occurred_at = self.draft.occurred_at
        if time_text != self._shown_now or occurred_at is not None:
            try:
                occurred_at = parse_time(
                    time_text, self.classlog.now(), self.classlog.store.timezone
                )
            except TimeError as error:
                self.query_one("#details-error", Static).update(Content.styled(str(error), "bold"))
                self.query_one("#details-time", Input).focus()
                return
        self.dismiss(
            Details(
                occurred_at=occurred_at,
                location=self._value("#details-location"),
                motivation=self._value("#details-motivation"),
                others_involved=self._value("#details-others"),
                note=self.query_one("#details-note", Input).value.strip(),
                save=save,
            )
        )
