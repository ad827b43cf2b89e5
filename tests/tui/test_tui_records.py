"""Today's log, a student's history, one record: edit, change level, void, follow-ups, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from textual.app import App
from tuikit import Wall, pull_others_level_2

from schema.models import Action, FollowUpKind, IncidentDraft
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.records.record import RecordScreen
from tui.records.today import TodayScreen

Seen = Callable[[App[object]], str]
CHICAGO = ZoneInfo("America/Chicago")
EARLIER = datetime(2026, 9, 14, 9, 30, tzinfo=CHICAGO)


def _level_2(store: DeviceStore, note: str = "") -> str:
    return store.log_incident(
        IncidentDraft(
            student_id="s-maya",
            behavior_code="DIS-CLASS",
            level=2,
            actions=[Action.REDIRECT, Action.REMOVAL],
            removal_minutes=20,
            occurred_at=EARLIER,
            note=note,
        )
    ).id


async def test_todays_log_lists_records_and_opens_one(store: DeviceStore, seen: Seen) -> None:
    record_id = _level_2(store, note="[@click=app.quit]boom[/]\nsecond line")
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, TodayScreen)
        text = seen(app)
        assert "Today's log, Monday September 14: 1 intervention, 0 breaks" in text
        assert "09:30 Maya Lopez DIS-CLASS Level 2 waiting to sync" in text
        await pilot.press("enter")
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.incident_id == record_id
        text = seen(app)
        assert "Record: Maya Lopez Level 2 DIS-CLASS" in text
        assert "Actions: Redirect, Removal from class" in text
        assert "Note: [@click=app.quit]boom[/] second line" in text
        assert "[ ] Contact the family (open)" in text
        assert "Audit trail" in text
        assert "Marisol Alvarez logged it at Level 2." in text
        assert "Where: waiting to sync" in text
        assert app.is_running


async def test_changing_level_2_to_1_takes_level_2_actions_off_and_is_audited(
    store: DeviceStore, seen: Seen
) -> None:
    record_id = _level_2(store)
    pending_before = store.sync_status().pending_count
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d", "enter", "l")
        text = seen(app)
        assert "Change this record to Level 1?" in text
        assert "stays on this device only" in text
        assert "taken off it: Removal from class" in text
        await pilot.press("y")
        await pilot.pause()
        record = store.incident(record_id)
        assert record.level == 1
        assert record.actions == [Action.REDIRECT]
        assert store.sync_status().pending_count < pending_before
        assert [row["action"] for row in store.audit_for(record_id)] == ["create", "edit"]
        text = seen(app)
        assert "Record: Maya Lopez Level 1" in text
        assert (
            "Marisol Alvarez changed the level from 2 to 1, took off Removal from class and "
            "took off the removal's length."
        ) in text
        assert "Where: kept on this device (Level 1)" in text
        assert "A Level 1 record never leaves this device." in text


async def test_editing_a_record_keeps_the_old_value_in_the_audit_trail(
    store: DeviceStore, seen: Seen
) -> None:
    record_id = _level_2(store, note="first")
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d", "enter", "e")
        assert "Edit record: Maya Lopez DIS-CLASS" in seen(app)
        app.screen.query_one("#edit-note").focus()
        await pilot.press("end", *" and second", "ctrl+s")
        await pilot.pause()
        assert store.incident(record_id).note == "first and second"
        [edit] = [row for row in store.audit_for(record_id) if row["action"] == "edit"]
        assert edit["changes"]["note"] == ["first", "first and second"]
        assert isinstance(app.screen, RecordScreen)
        assert "Marisol Alvarez changed the note to “first and second”." in seen(app)


async def test_the_edit_form_unticks_level_2_actions_when_the_level_goes_to_1(
    store: DeviceStore, seen: Seen
) -> None:
    record_id = _level_2(store)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d", "enter", "e", "enter", "up", "enter")
        text = seen(app)
        assert "[ ] Removal from class (not available: Level 2 only)" in text
        await pilot.press("ctrl+s")
        await pilot.pause()
        record = store.incident(record_id)
        assert record.level == 1
        assert record.actions == [Action.REDIRECT]


async def test_voiding_needs_a_reason_and_keeps_the_record(store: DeviceStore, seen: Seen) -> None:
    record_id = _level_2(store)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d", "enter", "v", "enter")
        assert "A reason is required." in seen(app)
        assert store.incident(record_id).voided_at is None
        await pilot.press(*"wrong student", "enter")
        await pilot.pause()
        record = store.incident(record_id)
        assert record.voided_at is not None
        assert record.void_reason == "wrong student"
        assert "VOIDED" in seen(app)
        assert "Reason: wrong student" in seen(app)
        await pilot.press("escape")
        text = seen(app)
        assert "0 interventions (1 voided)" in text
        assert "VOIDED" in text
        await pilot.press("escape")
        assert "Maya Lopez 07 " in seen(app)
        assert store.counts_for_day() == {}


async def test_a_follow_up_is_marked_done_from_the_follow_ups_screen(
    store: DeviceStore, seen: Seen
) -> None:
    record_id = _level_2(store)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Follow-ups open: 2 (ctrl+f)" in seen(app)
        await pilot.press("ctrl+f")
        text = seen(app)
        assert "Open follow-ups: 2" in text
        assert "[ ] Give corrective feedback — Maya Lopez" in text
        await pilot.press("enter")
        assert "Mark this follow-up done" in seen(app)
        await pilot.press(*"talked after class", "enter")
        await pilot.pause()
        done = [f for f in store.follow_ups_for(record_id) if f.done_at is not None]
        assert [(f.kind, f.note) for f in done] == [
            (FollowUpKind.CORRECTIVE_FEEDBACK, "talked after class")
        ]
        assert "Open follow-ups: 1" in seen(app)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Follow-ups open: 1 (ctrl+f)" in seen(app)


async def test_a_follow_up_is_marked_done_on_its_record(store: DeviceStore, seen: Seen) -> None:
    record_id = _level_2(store)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+d", "enter", "down", "enter", "enter")
        await pilot.pause()
        kinds = [f.kind for f in store.follow_ups_for(record_id) if f.done_at is not None]
        assert kinds == [FollowUpKind.FAMILY_CONTACT]
        assert "[x] Contact the family done Mon Sep 14 10:05" in seen(app)
        assert "Marisol Alvarez marked the follow-up “Contact the family” done." in seen(app)


async def test_a_students_history_shows_this_school_year(store: DeviceStore, seen: Seen) -> None:
    _level_2(store)
    store.log_incident(
        IncidentDraft(
            student_id="s-maya",
            behavior_code="DEVICE",
            level=1,
            actions=[Action.PROXIMITY],
            occurred_at=datetime(2026, 9, 2, 11, 0, tzinfo=CHICAGO),
        )
    )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "ctrl+o")
        text = seen(app)
        assert "History: Maya Lopez, school year 2026-2027: 1 at Level 1, 1 at Level 2" in text
        assert "Wed Sep 02 11:00" in text
        assert "Mon Sep 14 09:30" in text
        await pilot.press("down", "enter")
        assert "Record: Maya Lopez Level 1 DEVICE" in seen(app)


async def test_another_staff_members_record_shows_its_author_and_offers_no_edit_keys(
    store: DeviceStore, tmp_path: Path, wall: Wall, seen: Seen
) -> None:
    record_id = pull_others_level_2(store, tmp_path / "teacher-device", wall)
    store.set_config(staff_id="staff-whitfield")
    own_id = _level_2(store)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(RecordScreen(record_id))
        await pilot.pause()
        text = seen(app)
        assert "Logged by: Marisol Alvarez" in text
        offered = {binding.binding.id for binding in app.active_bindings.values()}
        assert not offered & {
            "record.edit",
            "record.void",
            "record.level",
            "record.follow_up_done",
        }
        assert "Edit" not in text
        assert "Void" not in text
        assert "Follow-up done" not in text
        await pilot.press("e", "v", "enter")
        assert isinstance(app.screen, RecordScreen)

        app.pop_screen()
        app.push_screen(RecordScreen(own_id))
        await pilot.pause()
        text = seen(app)
        assert "Logged by" not in text
        offered = {binding.binding.id for binding in app.active_bindings.values()}
        assert {"record.edit", "record.void", "record.level", "record.follow_up_done"} <= offered
