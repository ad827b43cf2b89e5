"""The dashboard's help: the keys of the screen below and how the dashboard is read."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from tui.help import HelpScreen

FLOWS = (
    "Filters stay at the top: s the school (or all schools), d the date range (this month, "
    "last month, this school year), g the grade, l the level. Every panel reloads for the new "
    "filters.\n"
    "Panels: 1 Big 5, 2 Levels, 3 Take a Break, 4 Follow-ups, 5 Progression, 6 Equity (or tab "
    "and the arrows on the panel names). Each panel has several views: ] and [ move between "
    "them; t switches a chart to the table of the same numbers.\n"
    "Drill down: up and down pick a bar or row; Enter lists the Level 2 records behind it, "
    "and Enter again opens one record, read-only.\n"
    "x writes the current view as CSV; r reloads. When the server cannot be reached, a panel "
    "keeps the last numbers it fetched and says when they were fetched and why they are not "
    "newer.\n"
    "Small groups are suppressed (fewer than 10 with the outcome, or fewer than 30 enrolled, "
    "by default): the table says 'suppressed' and why, never a number."
)


class AdminHelpScreen(HelpScreen):
    """The teacher's help screen, with the dashboard's flows."""

    def compose(self) -> ComposeResult:
        about = getattr(self.under, "HELP", "")
        with VerticalScroll(id="help-body"):
            yield Static(Content.styled("Help", "bold"), markup=False)
            if about:
                yield Static(about, markup=False, classes="help-about")
            yield Static(Content.styled("Keys on this screen", "bold"), markup=False)
            for key, what in self._key_rows():
                with Horizontal(classes="help-key"):
                    yield Static(key, markup=False, classes="help-key-name")
                    yield Static(what, markup=False)
            yield Static(Content.styled("Reading the dashboard", "bold"), markup=False)
            yield Static(FLOWS, markup=False)
        yield Footer(compact=True)
