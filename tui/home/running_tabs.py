"""Running Take a Breaks with live mm:ss timers. A support, never discipline (R3): the words
here never say suspension or removal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from schema.rows import RunningTab
from schema.vocabulary import StartedBy
from tui.formatting import TAB_KIND_SHORT, elapsed_mm_ss
from tui.text import fit

MAX_LINES = 4
STARTED_BY_SHORT = {StartedBy.TEACHER: "by teacher", StartedBy.STUDENT: "by student"}


class RunningTabs(Static):
    """One line per running Take a Break; hidden when none is running."""

    DEFAULT_CSS = """
    RunningTabs {
        height: auto;
        max-height: 5;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.tabs: list[RunningTab] = []
        self._names: Mapping[str, str] = {}

    def show_tabs(
        self, tabs: Sequence[RunningTab], names: Mapping[str, str], now: datetime
    ) -> None:
        self.tabs = list(tabs)
        self._names = names
        self.display = bool(self.tabs)
        self.tick(now, layout=True)

    def tick(self, now: datetime, *, layout: bool = False) -> None:
        """Redraw the timers for ``now``: the same lines with new times, so nothing else on the
        screen moves (no layout pass) unless ``layout`` (the breaks shown changed)."""
        if not self.tabs:
            return
        lines = [Content.styled(f"Take a Break running ({len(self.tabs)}):", "bold")]
        for tab in self.tabs[:MAX_LINES]:
            name = self._names.get(tab.student_id, tab.student_id)
            lines.append(
                Content.assemble(
                    (f"  {elapsed_mm_ss(tab.started_at, now):>7}  ", "bold"),
                    fit(name, 26),
                    f"  {TAB_KIND_SHORT[tab.kind]}, {STARTED_BY_SHORT[tab.started_by]}",
                )
            )
        if len(self.tabs) > MAX_LINES:
            lines[-1] = Content(
                f"  ... and {len(self.tabs) - MAX_LINES + 1} more (ctrl+e lists all)"
            )
        self.update(Content("\n").join(lines), layout=layout)
