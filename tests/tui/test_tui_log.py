"""The log flow through the keyboard, asserting on the screen and on what was stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from textual.app import App
from tuikit import Wall, seed_school

from schema.models import (
    Action,
    FollowUpKind,
    IncidentDraft,
    InterventionDraft,
    InterventionKind,
)
from schema.store import DeviceStore
from tui.app import ClasslogApp
from tui.home.screen import HomeScreen
from tui.log.office import OfficeScreen

Seen = Callable[[App[object]], str]
CHICAGO = ZoneInfo("America/Chicago")
AN_HOUR_AGO = datetime(2026, 9, 14, 9, 5, tzinfo=CHICAGO)

LEVEL_1_KEYS = ("m", "a", "enter", "1", "r", "enter")
"""Maya, Level 1, the top behavior (DIS-CLASS), Redirect, save: six keystrokes from home."""


async def test_level_1_for_a_student_on_screen_takes_six_keystrokes(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        assert len(LEVEL_1_KEYS) <= 6
        await pilot.press(*LEVEL_1_KEYS)
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.student_id == "s-maya"
        assert incident.behavior_code == "DIS-CLASS"
        assert incident.level == 1
        assert incident.actions == [Action.REDIRECT]
        assert incident.advised_level == 1
        assert not incident.progression_bypassed
        assert isinstance(app.screen, HomeScreen)
        text = seen(app)
        assert "Saved 10:05: Level 1 · DIS-CLASS · Maya Lopez · Redirect" in text
        kinds = {follow_up.kind for follow_up in store.follow_ups_for(incident.id)}
        assert kinds == {FollowUpKind.FAMILY_CONTACT, FollowUpKind.CORRECTIVE_FEEDBACK}


async def test_nothing_is_saved_until_enter_on_the_level_screen(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "r")
        assert store.todays_incidents() == []
        assert "Advice: Level 1. First occurrence this school year" in seen(app)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, HomeScreen)
        assert store.todays_incidents() == []
        assert "Saved" not in seen(app)


async def test_level_2_with_a_half_day_iss(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await pilot.press("m", "a", "enter", "1", "i")
        assert "In-School Suspension (up to one day) (Level 2 only)" in seen(app)
        await pilot.press("right", "i", "h")
        text = seen(app)
        assert "(•) Level 2" in text
        assert "[x] In-School Suspension" in text
        assert "length: a half day" in text
        await pilot.press("enter")
        assert "A Level 2 needs who responded (m, t or o)." in seen(app)
        assert store.todays_incidents() == []
        await pilot.press("m", "enter")
        assert "The advice is a lower level for Maya Lopez" in seen(app)
        await pilot.press(*"threw a chair", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.level == 2
        assert incident.actions == [Action.ISS, Action.MOBILE_RESPONSE]
        assert incident.iss_days == 0.5
        assert not incident.iss_recorded_as_removal
        kinds = {follow_up.kind for follow_up in store.follow_ups_for(incident.id)}
        assert kinds == {
            FollowUpKind.FAMILY_CONTACT,
            FollowUpKind.CORRECTIVE_FEEDBACK,
            FollowUpKind.STUDENT_VERSION,
            FollowUpKind.REPAIR_PLAN,
        }
        assert store.sync_status().pending_count > 0


async def test_level_2_only_actions_cannot_be_ticked_at_level_1(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "right", "v", "left")
        text = seen(app)
        assert "[ ] Removal from class (Level 2 only)" in text
        await pilot.press("v", "r", "enter")
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.level == 1
        assert incident.actions == [Action.REDIRECT]


async def test_iss_for_a_student_with_an_iep_without_all_safeguards_is_a_removal(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "a", "m", "enter", "1", "right", "i", "m")
        assert "has an IEP: on saving you will be asked" in seen(app)
        await pilot.press("enter")
        text = seen(app)
        assert "An ISS for a student with an IEP needs all three" in text
        assert "recorded as a removal from class, not an ISS" in text
        await pilot.press("w", "s")
        assert "1 missing: it will be recorded as a REMOVAL FROM CLASS" in seen(app)
        await pilot.press("enter", *"unsafe", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.student_id == "s-sam"
        assert incident.actions == [Action.REMOVAL, Action.MOBILE_RESPONSE]
        assert incident.iss_recorded_as_removal
        assert incident.iss_safeguards is not None
        assert not incident.iss_safeguards.peer_without_disability
        assert "ISS recorded as a removal" in seen(app)


async def test_iss_for_a_student_with_an_iep_with_all_safeguards_stays_an_iss(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "a", "m", "enter", "1", "right", "i", "m", "enter", "w", "s", "p")
        assert "All three in place: it will be recorded as an In-School" in seen(app)
        await pilot.press("enter", *"unsafe", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.actions == [Action.ISS, Action.MOBILE_RESPONSE]
        assert not incident.iss_recorded_as_removal


async def test_office_managed_behavior_shows_notices_and_logs_nothing(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", *"lang-threat")
        assert "LANG-THREAT" in seen(app)
        await pilot.press("enter")
        assert isinstance(app.screen, OfficeScreen)
        text = seen(app)
        assert "OFFICE-MANAGED: contact the office" in text
        assert "Mandatory reporting:" in text
        assert "Nothing was logged." in text
        await pilot.press("escape")
        await pilot.press("backspace", *(["backspace"] * 10), *"sex-images", "enter")
        text = seen(app)
        assert "Title IX:" in text
        assert "Title IX Coordinator" in text
        await pilot.press("escape", "escape", "escape", "escape")
        assert isinstance(app.screen, HomeScreen)
        assert store.todays_incidents() == []


async def test_several_students_marked_with_plus_are_logged_together(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "plus", "p", "r", "i", "plus")
        assert "Enter logs for 2: Maya Lopez, Priya Raman" in seen(app)
        await pilot.press("enter")
        assert "2 students: Maya Lopez, Priya Raman" in seen(app)
        await pilot.press("2", "p", "enter")
        await pilot.pause()
        incidents = store.todays_incidents()
        assert sorted(i.student_id for i in incidents) == ["s-maya", "s-priya"]
        assert {i.behavior_code for i in incidents} == {"DEVICE"}
        assert {i.actions[0] for i in incidents} == {Action.PROXIMITY}
        group_ids = {i.group_id for i in incidents}
        assert len(group_ids) == 1
        assert None not in group_ids
        assert "2 students" in seen(app)
        assert "marked" not in seen(app)


async def test_a_save_for_several_students_refused_for_one_saves_none(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await pilot.press("m", "a", "plus", "p", "r", "i", "plus", "enter", "1", "r")
        seed_school(store, left=frozenset({"s-priya"}))
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.todays_incidents() == []
        text = seen(app)
        assert "Priya Raman: unknown student 's-priya'" in text
        assert "nothing was saved for the 2 students" in text
        assert not isinstance(app.screen, HomeScreen)


async def test_advice_that_differs_between_students_logs_each_at_their_own_level(
    store: DeviceStore, seen: Seen
) -> None:
    earlier = store.log_incident(
        IncidentDraft(
            student_id="s-maya",
            behavior_code="DIS-CLASS",
            level=1,
            actions=[Action.REDIRECT],
            occurred_at=AN_HOUR_AGO,
        )
    )
    store.add_intervention(
        InterventionDraft(
            student_id="s-maya", behavior_code="DIS-CLASS", kind=InterventionKind.RETEACHING
        )
    )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "plus", "p", "r", "i", "plus", "enter", "1")
        text = seen(app)
        assert "(•) Each at their advised level" in text
        assert "Maya Lopez: Level 2." in text
        assert "Priya Raman: Level 1." in text
        await pilot.press("e", "enter")
        await pilot.pause()
        levels = {i.student_id: i.level for i in store.todays_incidents() if i.id != earlier.id}
        assert levels == {"s-maya": 2, "s-priya": 1}


async def test_a_missing_intervention_can_be_added_to_the_earlier_record(
    store: DeviceStore, seen: Seen
) -> None:
    earlier = store.log_incident(
        IncidentDraft(
            student_id="s-maya", behavior_code="DIS-CLASS", level=1, occurred_at=AN_HOUR_AGO
        )
    )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1")
        text = seen(app)
        assert "Record an intervention for the Level 1" in text
        assert "Press a to record the missing intervention" in text
        await pilot.press("a")
        assert "Which intervention?" in seen(app)
        await pilot.press("2", "enter")
        await pilot.pause()
        [recorded] = store.interventions_for("s-maya")
        assert recorded.kind is InterventionKind.MONITORED_STRATEGY
        assert recorded.incident_id == earlier.id
        assert (recorded.review_on - recorded.starts_on).days == 14
        assert store.incident(earlier.id).actions == []
        text = seen(app)
        assert "(•) Level 2" in text
        await pilot.press("f", "m", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        latest = next(i for i in store.todays_incidents() if i.id != earlier.id)
        assert latest.level == 2
        assert not latest.progression_bypassed


async def test_going_up_without_the_missing_intervention_asks_a_bypass_reason(
    store: DeviceStore, seen: Seen
) -> None:
    earlier = store.log_incident(
        IncidentDraft(
            student_id="s-maya", behavior_code="DIS-CLASS", level=1, occurred_at=AN_HOUR_AGO
        )
    )
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await pilot.press("m", "a", "enter", "1", "right", "m", "r", "enter")
        from tui.log.dialogs import BypassScreen

        assert isinstance(app.screen, BypassScreen)
        assert app.screen.names == ["Maya Lopez"]
        assert "Going a level higher than advised" in seen(app)
        await pilot.press("enter")
        assert "A reason is required." in seen(app)
        await pilot.press(*"safety first", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        latest = next(i for i in store.todays_incidents() if i.id != earlier.id)
        assert latest.level == 2
        assert latest.actions == [Action.REDIRECT, Action.MOBILE_RESPONSE]
        assert latest.bypass_reason == "safety first"
        assert latest.progression_bypassed
        assert latest.bypass_reason == "safety first"


async def test_details_backdate_the_record_and_keep_a_literal_note(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "r", "d")
        assert "Time (HH:MM today" in seen(app)
        await pilot.press("enter", "down", "enter", "shift+tab")
        await pilot.press(*(["backspace"] * 5), *"09:41")
        await pilot.press("tab", "tab", "tab", "tab", *"[b]threw[/b] a pencil", "ctrl+s")
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.location == "Classroom"
        assert incident.occurred_at.astimezone(CHICAGO) == datetime(
            2026, 9, 14, 9, 41, tzinfo=CHICAGO
        )
        assert incident.note == "[b]threw[/b] a pencil"


async def test_a_time_in_the_future_is_refused(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "r", "d", "shift+tab")
        await pilot.press(*(["backspace"] * 5), *"11:30", "ctrl+s")
        assert "That time is in the future" in seen(app)
        assert store.todays_incidents() == []


async def test_the_teachers_most_used_behaviors_come_first(
    store: DeviceStore, seen: Seen, wall: Wall
) -> None:
    """Yesterday's logs rank the digits today (today's own logs wait for tomorrow, so the
    digits never move mid-day)."""
    for _ in range(2):
        store.log_incident(
            IncidentDraft(
                student_id="s-priya", behavior_code="DRESS", level=1, actions=[Action.RETEACH]
            )
        )
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter")
        assert "1 DRESS" not in seen(app)
    wall.advance(24 * 3600)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter")
        assert "1 DRESS" in seen(app)
        await pilot.press("1", "r", "enter")
        await pilot.pause()
        assert store.todays_incidents()[0].behavior_code == "DRESS"


def _numbered(app: App[object]) -> list[str]:
    """The codes behind the digits on the behavior screen now."""
    from tui.log.behavior import BehaviorPickerScreen

    screen = app.screen
    assert isinstance(screen, BehaviorPickerScreen)
    return [code for code, _ in screen.top]


async def test_the_numbers_stay_put_all_day_and_are_re_ranked_overnight(
    store: DeviceStore, wall: Wall, seen: Seen
) -> None:
    wall.advance(-24 * 3600)
    for code in ("DEVICE", "DEVICE", "DIS-CLASS"):
        store.log_incident(IncidentDraft(student_id="s-sam", behavior_code=code, level=1))
    wall.advance(24 * 3600)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter")
        morning = _numbered(app)
        assert morning[:2] == ["DEVICE", "DIS-CLASS"]
        assert "1 DEVICE" in seen(app)
        await pilot.press("escape", "escape")
        await pilot.press("m", "a", "enter", *"dress", "enter", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        for student_id in ("s-sam", "s-sofia", "s-thomas"):
            store.log_incident(IncidentDraft(student_id=student_id, behavior_code="DRESS", level=1))
        assert sum(i.behavior_code == "DRESS" for i in store.todays_incidents()) == 4
        await pilot.press("p", "r", "enter")
        assert _numbered(app) == morning
        await pilot.press("2", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [priya] = [i for i in store.todays_incidents() if i.student_id == "s-priya"]
        assert priya.behavior_code == "DIS-CLASS"
    wall.advance(24 * 3600)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter")
        assert _numbered(app)[0] == "DRESS"


async def test_pinned_behaviors_take_the_first_numbers(store: DeviceStore, seen: Seen) -> None:
    store.set_config(pinned_behaviors='["TECH"]')
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("m", "a", "enter")
        assert _numbered(app)[0] == "TECH"
        await pilot.press(*"dress", "ctrl+k")
        assert "DRESS pinned to the first numbers." in seen(app)
        await pilot.press("escape")
        assert _numbered(app)[:2] == ["DRESS", "TECH"]
        assert "1* DRESS" in seen(app)
        await pilot.press("1", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [incident] = store.todays_incidents()
        assert incident.behavior_code == "DRESS"


async def test_a_level_2_needs_who_responded_and_an_action(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await pilot.press("m", "a", "enter", *"trespass", "enter")
        text = seen(app)
        assert "(•) Level 2" in text
        assert "Who responded (Level 2: at least one)" in text
        assert "m [ ] Mobile response staff responded" in text
        assert "t [ ] Support staff responded" in text
        assert "o [ ] Another adult responded" in text
        await pilot.press("enter")
        assert "A Level 2 needs who responded (m, t or o) and at least one action taken." in seen(
            app
        )
        await pilot.press("o", "enter")
        assert "A Level 2 needs at least one action taken." in seen(app)
        assert store.todays_incidents() == []
        await pilot.press("p", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [latest] = store.todays_incidents()
        assert latest.behavior_code == "DIS-TRESPASS"
        assert latest.level == 2
        assert latest.actions == [Action.PROXIMITY, Action.ANOTHER_ADULT]


async def test_the_details_form_marks_the_focused_field_without_colour(
    store: DeviceStore, seen_lines: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m", "a", "enter", "1", "r", "d")
        lines = seen_lines(app).splitlines()
        marked = [line.strip() for line in lines if "█(not given)" in line]
        assert len(marked) == 1
        location = lines.index(next(line for line in lines if line.strip() == "Location"))
        assert "█(not given)" in lines[location + 1]
        await pilot.press("tab")
        lines = seen_lines(app).splitlines()
        motivation = lines.index(
            next(line for line in lines if line.strip() == "Perceived motivation")
        )
        assert "█(not given)" in lines[motivation + 1]
        assert "█" not in lines[location + 1]
