"""Open follow-ups (R6) across this device's records, until each is marked done."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schema.store import OpenFollowUp, StoreError
from tui.appref import classlog_of
from tui.formatting import follow_up_words, level_words, short_day
from tui.text import one_line

if TYPE_CHECKING:
    from tui.app import ClasslogApp

SHOWN_AT_MOST = 500


class FollowUpsScreen(Screen[None]):
    """The open follow-ups, oldest record first; Enter marks one done, o opens its record."""

    HELP = (
        "The plan's minimum follow-ups that are still open: after support or redirection, "
        "contact the family and give corrective feedback; after an ISS, contact the family, hear "
        "the student's version and make a repair-and-reflection plan. Enter marks the highlighted "
        "one done (with an optional note); o opens its record."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "done",
            "Mark done",
            id="follow_ups.done",
            priority=True,
            tooltip="Mark the highlighted follow-up done, with an optional note",
        ),
        Binding("o", "open_record", "Open record", id="follow_ups.open"),
        Binding("escape", "back", "Back", id="follow_ups.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[OpenFollowUp] = []

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(id="follow-ups-title", markup=False)
        yield OptionList(id="follow-ups-list", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()

    def reload(self) -> None:
        store = self.classlog.store
        zone = store.timezone
        open_count = store.open_follow_up_count()
        self.items = store.open_follow_ups(limit=SHOWN_AT_MOST)
        more = f" (showing the oldest {SHOWN_AT_MOST})" if open_count > SHOWN_AT_MOST else ""
        self.query_one("#follow-ups-title", Static).update(
            Content.assemble(("Open follow-ups: ", "bold"), f"{open_count}{more}")
        )
        option_list = self.query_one(OptionList)
        highlighted = option_list.highlighted
        option_list.set_options(
            Option(
                Content.assemble(
                    ("[ ] ", "bold"),
                    (follow_up_words(item.follow_up.kind), "bold"),
                    " \N{EM DASH} ",
                    self.classlog.student_label(item.incident.student_id),
                    f"\n    {short_day(item.incident.occurred_at, zone)} \N{MIDDLE DOT} "
                    f"{level_words(item.incident.level)} \N{MIDDLE DOT} "
                    f"{one_line(item.incident.behavior_code)}",
                ),
                id=item.follow_up.id,
            )
            for item in self.items
        )
        if self.items:
            option_list.highlighted = min(highlighted or 0, len(self.items) - 1)

    def _highlighted(self) -> OpenFollowUp | None:
        option = self.query_one(OptionList).highlighted_option
        if option is None:
            return None
        return next((item for item in self.items if item.follow_up.id == option.id), None)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_done()

    @work(exclusive=True, group="follow-up")
    async def action_done(self) -> None:
        from tui.records.dialogs import FollowUpDoneScreen

        item = self._highlighted()
        if item is None:
            return
        what = Content.assemble(
            follow_up_words(item.follow_up.kind),
            " for ",
            self.classlog.student_label(item.incident.student_id),
        )
        note = await self.app.push_screen_wait(FollowUpDoneScreen(what))
        if note is None:
            return
        try:
            self.classlog.store.complete_follow_up(item.follow_up.id, note)
        except StoreError as error:
            self.classlog.report_error(error)
            return
        self.notify(f"Done: {follow_up_words(item.follow_up.kind)}", title="Saved", markup=False)
        self.reload()

    def action_open_record(self) -> None:
        from tui.records.record import RecordScreen

        item = self._highlighted()
        if item is not None:
            self.app.push_screen(RecordScreen(item.incident.id), lambda _: self.reload())

    def action_back(self) -> None:
        self.dismiss(None)
