"""One student's interventions and Take a Breaks for this school year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.content import Content

from schema.models import Incident, InterventionDraft, TabEvent
from schema.rows import StudentRow
from schema.store import StoreError
from tui.formatting import counted, day_and_clock, student_name
from tui.records.listing import RecordListScreen
from tui.text import literal


class HistoryScreen(RecordListScreen):
    """A student's school year, newest first; Enter opens a record."""

    HELP = (
        "This student's interventions and Take a Breaks since the school year began, newest "
        "first, each saying where it is (kept on this device, waiting to sync, at the district, "
        "refused, withdrawn). Enter opens one: an intervention to edit, change its level or void "
        "it; a Take a Break to see its times and reflection or void it. n records an "
        "intervention for this student (reteaching, a monitored strategy, ...): only those count "
        "before a repeat is answered one level higher. For a student with an IEP the title "
        "shows the school year's days of removal and minutes of TAB Out."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n",
            "intervention",
            "Intervention",
            id="history.intervention",
            tooltip="Record an intervention for this student (all behaviors)",
        ),
        Binding("escape", "back", "Back", id="history.back", tooltip="Back to the students"),
    ]
    LIST_NAME = "history"
    SHOW_STUDENT = False

    def __init__(self, student: StudentRow) -> None:
        super().__init__()
        self.student = student

    def when(self, moment: datetime, zone: tzinfo) -> str:
        return day_and_clock(moment, zone)

    def records(self) -> tuple[Sequence[Incident], Sequence[TabEvent]]:
        return self.classlog.store.student_history(self.student.sourced_id)

    def heading(self, incidents: Sequence[Incident], tabs: Sequence[TabEvent]) -> Content:
        levels = [incident.level for incident in incidents if incident.voided_at is None]
        tab_minutes = sum(tab.minutes or 0 for tab in tabs if tab.voided_at is None)
        store = self.classlog.store
        iep = ", IEP" if self.student.iep else ""
        heading = Content.assemble(
            ("History: ", "bold"),
            literal(student_name(self.student), "bold"),
            f"{iep}, school year {store.school_year().label}: "
            f"{levels.count(1)} at Level 1, {levels.count(2)} at Level 2, "
            f"{counted(len(tabs), 'break')} ({tab_minutes:.0f} min)",
        )
        live = [
            item
            for item in store.interventions_for(self.student.sourced_id)
            if item.voided_at is None
        ]
        if live:
            latest = live[0]
            heading = heading.append(
                f"\nInterventions: {len(live)}; latest {latest.label} "
                f"({latest.behavior_code or 'all behaviors'}), review "
                f"{latest.review_on.strftime('%b %d')}"
            )
        for referral in store.office_referrals_for(self.student.sourced_id)[:3]:
            if referral.voided_at is not None:
                continue
            heading = heading.append(
                Content.assemble(
                    ("\nOffice referral: ", "bold"),
                    literal(referral.behavior_code),
                    f" on {self.when(referral.occurred_at, store.timezone)}: ",
                    literal(referral.decision_words),
                )
            )
        if self.student.iep:
            totals = store.iep_year_totals(self.student.sourced_id)
            heading = heading.append(
                Content.assemble(
                    ("\nIEP: ", "bold"),
                    f"{totals.removal_days:g} days of removal, "
                    f"{totals.tab_out_minutes:.0f} min of TAB Out this school year",
                )
            )
            if totals.warning:
                heading = heading.append(Content.assemble(("\nWARNING: ", "bold"), totals.warning))
        return heading

    @work(exclusive=True, group="history-intervention")
    async def action_intervention(self) -> None:
        from tui.log.dialogs import AddInterventionScreen

        store = self.classlog.store
        kind = await self.app.push_screen_wait(
            AddInterventionScreen(None, student_name(self.student), store.timezone)
        )
        if kind is None:
            return
        try:
            recorded = store.add_intervention(
                InterventionDraft(student_id=self.student.sourced_id, kind=kind)
            )
        except StoreError as error:
            self.classlog.report_error(error)
            return
        self.notify(
            f"{recorded.label} recorded, review on {recorded.review_on.strftime('%b %d')}.",
            title="Saved",
            markup=False,
        )
        self.on_screen_resume()
