"""The plan's rules on the level screen (R4, R7): Title IX and mandatory-reporting notices at any
level, no removal and no ISS for a Title IX behavior, the row under review, the unverified
grid, and the removal's length."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from textual.app import App

from schema.models import Action, FollowUpKind, IncidentDraft, InterventionKind
from schema.store import DeviceStore
from schema.sync_store import SyncStore
from schema.wire import Change
from tui.app import ClasslogApp
from tui.log.level import LevelActionsScreen
from tui.log.office import OfficeScreen

Seen = Callable[[App[object]], str]


async def test_a_title_ix_behavior_at_level_1_shows_its_notice_and_opens_the_coordinator_follow_up(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", *"sex-expose", "enter")
        assert isinstance(app.screen, LevelActionsScreen)
        text = seen(app)
        assert "TITLE IX: Refer to Title IX guidelines before determining discipline." in text
        assert "No removal and no ISS until the Title IX process ends." in text
        assert "Log: Maya Lopez (grade 07) · grid not yet verified" in text
        await pilot.press("r", "enter")
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.behavior_code == "SEX-EXPOSE"
        kinds = {follow_up.kind for follow_up in store.follow_ups_for(incident.id)}
        assert FollowUpKind.TITLE_IX_COORDINATOR in kinds


async def test_a_title_ix_behavior_offers_no_removal_and_no_iss(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 30), notifications=True) as pilot:
        await pilot.press("m", "a", "enter", *"sex-pants", "enter")
        assert isinstance(app.screen, LevelActionsScreen)
        assert "(•) Level 2" in seen(app)
        await pilot.press("i", "v")
        text = seen(app)
        assert "not for a Title IX behavior" in text
        assert "[x] In-School Suspension" not in text
        assert "[x] Removal" not in text
        await pilot.press("m", "r", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.actions == [Action.REDIRECT, Action.MOBILE_RESPONSE]


async def test_a_threat_shows_the_mandatory_reporting_notice_on_the_level_screen(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", *"wpn-toy-threat", "enter")
        assert isinstance(app.screen, LevelActionsScreen)
        text = seen(app)
        assert "MANDATORY REPORTING: Serious threats of school violence must be reported" in text
        assert "TITLE IX" not in text


async def test_the_row_under_review_says_so_and_a_plain_row_shows_no_notice(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", *"phys-aggr", "enter")
        assert "Under review: The plan's progression section" in seen(app)
        await pilot.press("escape", *(["backspace"] * 12), *"dis-class", "enter")
        text = seen(app)
        assert "Under review" not in text
        assert "MANDATORY REPORTING" not in text
        assert "TITLE IX" not in text


async def test_a_removal_carries_the_length_shown_on_screen(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press("m", "a", "enter", "1", "right", "v")
        assert "Removal length: 30 minutes (u changes)." in seen(app)
        await pilot.press("u")
        assert "Removal length: 45 minutes (u changes)." in seen(app)
        await pilot.press("m", "enter", *"unsafe", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.actions == [Action.REMOVAL, Action.MOBILE_RESPONSE]
        assert incident.removal_minutes == 45


async def test_an_iep_students_history_shows_removal_days_tab_out_minutes_and_the_warning(
    store: DeviceStore, seen: Seen
) -> None:
    start = store.now()
    for day in range(8):
        store.log_incident(
            IncidentDraft(
                student_id="s-sam",
                behavior_code="DIS-CLASS",
                level=2,
                actions=[Action.ISS],
                occurred_at=start - timedelta(days=day + 1),
                bypass_reason="the office asked",
            )
        )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "a", "ctrl+o")
        text = seen(app)
        assert "IEP: 8 days of removal, 0 min of TAB Out this school year" in text
        assert "WARNING: 8 days of removal this school year: nearing 10 days" in text


async def test_an_intervention_is_recorded_from_a_students_history(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "ctrl+o", "n")
        assert "Which intervention?" in seen(app)
        await pilot.press("4", "enter")
        await pilot.pause()
        [recorded] = store.interventions_for("s-maya")
        assert recorded.kind is InterventionKind.LONG_TERM_SUPPORT
        assert recorded.behavior_code is None
        assert "Interventions: 1; latest Long-term support (all behaviors)" in seen(app)


async def test_the_office_screen_sends_the_student_to_the_office(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", *"wpn-firearm", "enter")
        assert isinstance(app.screen, OfficeScreen)
        assert "Mandatory reporting:" in seen(app)
        await pilot.press(*"in the gym", "ctrl+o")
        assert "Sent to the office: Maya Lopez." in seen(app)
        [referral] = store.office_referrals_for("s-maya")
        assert (referral.behavior_code, referral.note) == ("WPN-FIREARM", "in the gym")
        await pilot.press("ctrl+o")
        assert len(store.office_referrals_for("s-maya")) == 1
        assert store.todays_incidents() == []


async def test_the_office_screen_takes_where_it_happened(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", *"wpn-other", "enter")
        assert isinstance(app.screen, OfficeScreen)
        await pilot.press(*"pushed a peer", "tab", "enter")
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        await pilot.press("ctrl+o")
        assert "Sent to the office: Maya Lopez." in seen(app)
        [referral] = store.office_referrals_for("s-maya")
        assert (referral.note, referral.location) == ("pushed a peer", "Hallway")
        [op] = [
            json.loads(row[0])
            for row in store.connection.execute(
                "SELECT fields FROM outbox WHERE kind = 'office_referral'"
            )
        ]
        assert (op["location"], op["note"], op["behavior_code"]) == (
            "Hallway",
            "pushed a peer",
            "WPN-OTHER",
        )
        assert not {"decided_level", "oss_days", "alternatives", "decided_at"} & set(op)


async def test_a_referrals_decision_from_the_office_shows_in_the_students_history(
    store: DeviceStore, seen: Seen
) -> None:
    referral = store.refer_to_office("s-maya", "wpn-firearm", note="in the gym")
    app = ClasslogApp(store)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("m", "a", "ctrl+o")
        assert "Office referral: WPN-FIREARM on" in seen(app)
        assert "waiting for the office's decision" in seen(app)
        await pilot.press("escape")
        await pilot.pause()
        decided = {
            "decided_level": 4,
            "oss_days": 3.0,
            "alternatives": ["Restorative circle"],
            "decided_at": "2026-10-15T15:00:00.000+00:00",
        }
        SyncStore(store.connection).apply_pull_page(
            [
                Change(
                    cursor=7,
                    kind="office_referral",
                    id=referral.id,
                    op="upsert",
                    fields=decided,
                    field_hlc=dict.fromkeys(decided, "9999999999999:0000:server"),
                )
            ],
            7,
        )
        await pilot.press("ctrl+o")
        text = seen(app)
        assert "History: Maya Lopez" in text
        assert (
            "Level 4: 3 days of OSS; alternatives to suspension offered: Restorative circle" in text
        )
        assert "waiting for the office's decision" not in text
