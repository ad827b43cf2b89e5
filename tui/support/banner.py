"""The banner a new call shows on top of any screen of a mobile responder's app.

Enter takes the call ("on my way"): the banner says "accepting…" until the server answers, then
either that the responder is on their way, or who took it first. Esc closes it; the call stays
on home (ctrl+a takes the oldest open call from there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.appref import classlog_of
from tui.support.watch import WATCH_SECONDS, accept
from tui.support.words import minutes_waiting, responder_state, who_and_where
from tui.text import literal, one_line

if TYPE_CHECKING:
    from schema.support import SupportRequest
    from tui.app import ClasslogApp


class RequestBannerScreen(ModalScreen[None]):
    """A call for support, over whatever was on screen."""

    HELP = (
        'A teacher is calling for support. Enter takes the call ("on my way"): the other '
        "responders see that you took it. If someone else took it first, this says who. Esc "
        "closes the banner; the call stays listed on home."
    )
    DEFAULT_CSS = """
    RequestBannerScreen {
        align: center top;
    }
    #banner {
        width: 100%;
        height: auto;
        border: heavy $warning;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "accept",
            "On my way",
            id="banner.accept",
            priority=True,
            tooltip="Take this call: the teacher and the other responders see it is yours",
        ),
        Binding("escape", "close", "Close", id="banner.close", tooltip="The call stays on home"),
    ]

    def __init__(self, request: SupportRequest, *, others: int = 0) -> None:
        super().__init__()
        self.request = request
        self.others = others
        """Calls that rang while this banner was up (said in a line; they are on home)."""

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        with Vertical(id="banner"):
            yield Static(id="banner-title", markup=False)
            yield Static(id="banner-who", markup=False)
            yield Static(id="banner-state", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if not self.query("#banner-title"):
            return  # the app is closing: the banner's lines were never mounted
        self._show()
        self.set_interval(WATCH_SECONDS, self._refresh)

    def another_call(self) -> None:
        self.others += 1
        if self.is_mounted:
            self._show()

    def _refresh(self) -> None:
        classlog = self.classlog
        for request in classlog.support_poll.requests(classlog.store):
            if request.id == self.request.id:
                if request != self.request:
                    self.request = request
                    self._show()
                return

    def _show(self) -> None:
        request = self.request
        classlog = self.classlog
        urgency = "NOW" if request.urgency == "now" else "when you can"
        waiting = minutes_waiting(request, classlog.now())
        self.query_one("#banner-title", Static).update(
            Content.assemble(
                ("\N{BELL} Call for support ", "bold"),
                (urgency, "bold reverse"),
                f"  ({waiting})",
            )
        )
        who = who_and_where(request, classlog)
        if request.note:
            who = Content.assemble(who, "\n", literal(f'"{one_line(request.note)}"'))
        self.query_one("#banner-who", Static).update(who)
        state = responder_state(request, classlog.reader.staff_id)
        hint = "Enter: on my way  \N{MIDDLE DOT}  " if self._may_accept() else ""
        more = f"  \N{MIDDLE DOT}  {self.others} more on home" if self.others else ""
        self.query_one("#banner-state", Static).update(
            Content.assemble((state, "bold"), f"   {hint}Esc: close{more}")
        )
        self.refresh_bindings()

    def _may_accept(self) -> bool:
        request = self.request
        return request.state == "open" and not request.pending_accept and not request.lost_to

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept":
            return self._may_accept()
        return True

    def action_accept(self) -> None:
        if not self._may_accept():
            return
        accept(self.classlog, self.request.id)
        self._refresh()

    def action_close(self) -> None:
        self.dismiss(None)
