"""Mobile response on screen (R9): the teacher's call from home and its line, and the mobile
responder's home, bell, banner, accept and resolve.

The app runs on a real device store. The server's part (acknowledging a push, delivering a pull
page) is played on a second connection to the same database through the daemon's own store
functions (tests/support/supportkit.py), so the app notices it as it notices the real daemon:
by ``PRAGMA data_version``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from tuikit import NOW, SCHOOL, TEACHER, Wall, pull_others_level_2, seen_words

from schema.contract import canonical_moment
from schema.models import Action, IncidentDraft, TabKind
from schema.store import DeviceStore
from schema.support import get_request, list_requests
from schema.sync_store import SyncStore
from schema.wire import OpStatus
from tui.app import ClasslogApp
from tui.home.mobile import MobileHomeScreen
from tui.home.screen import HomeScreen
from tui.log.behavior import BehaviorPickerScreen
from tui.support.banner import RequestBannerScreen

sys.path.insert(0, str(Path(__file__).parent.parent / "support"))

from supportkit import acknowledge, deliver

Seen = Callable[[App[object]], str]
RESPONDER = "staff-whitfield"
TEACHER_DEVICE = "device-teacher-1"


@pytest.fixture
def daemon(home: Path, store: DeviceStore, wall: Wall) -> Iterator[DeviceStore]:
    """A second connection to the device database, as the sync daemon has."""
    other = DeviceStore.open(home, wall=wall)
    yield other
    other.close()


@pytest.fixture
def mobile(store: DeviceStore) -> DeviceStore:
    """The same roster on a mobile response device: the aide teaches no section."""
    store.set_config(staff_id=RESPONDER, enrolled_role="mobile", school_id=SCHOOL)
    return store


def wire_time(moment: datetime) -> str:
    return canonical_moment(moment)


def call_fields(request_id: str = "req-1", **changes: Any) -> dict[str, Any]:
    """A call from Ms. Alvarez's room for Maya, as the server sends it to a mobile device."""
    fields: dict[str, Any] = {
        "school_id": SCHOOL,
        "requested_by": TEACHER,
        "requested_by_name": "Marisol Alvarez",
        "device_id": TEACHER_DEVICE,
        "room": "Science 7",
        "section_id": "sec-p2",
        "student_ids": ["s-maya"],
        "urgency": "now",
        "note": "",
        "state": "open",
        "accepted_by": None,
        "accepted_by_name": None,
        "accepted_at": None,
        "resolved_at": None,
        "outcome": None,
        "incident_id": None,
        "created_at": wire_time(NOW - timedelta(minutes=3)),
        "updated_at": wire_time(NOW - timedelta(minutes=3)),
    }
    fields.update(changes)
    return fields


async def wait_for(pilot: Any, app: ClasslogApp, *texts: str, seconds: float = 10.0) -> str:
    """The screen's words once one of ``texts`` is among them (flows that save in a worker;
    a loaded machine runs the pollers late)."""
    words = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        words = seen_words(app)
        if any(text in words for text in texts):
            return words
    raise AssertionError(f"none of {texts!r} on screen: {words}")


async def settle(pilot: Any, app: ClasslogApp) -> None:
    """Let the store load and the pollers run once."""
    app.wait_for_store_loader()
    await pilot.pause(0.4)


def home_of(app: ClasslogApp) -> HomeScreen:
    screen = app.screen
    assert isinstance(screen, HomeScreen)
    return screen


# -- the teacher ------------------------------------------------------------------------------


def daemon_online(daemon: DeviceStore) -> None:
    """The device enrolled, its daemon running (this test's own pid) and online."""
    sync = SyncStore(daemon.connection, wall=daemon.wall)
    sync.record_enrollment(
        server_url="https://district.example",
        school_id=SCHOOL,
        role="classroom",
        staff_id=TEACHER,
        section_ids=["sec-p2"],
    )
    sync.record_daemon(os.getpid())
    sync.record_success()


async def test_ctrl_r_then_enter_calls_for_the_highlighted_student_and_the_line_tells_the_truth(
    store: DeviceStore, daemon: DeviceStore, wall: Wall, seen: Seen
) -> None:
    daemon_online(daemon)
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        assert "Support call" not in seen(app)
        await pilot.press("m", "a", "ctrl+r")
        assert "Call for support to Science 7" in seen(app)
        await pilot.press("enter")
        await settle(pilot, app)
        [request] = list_requests(store)
        assert request.student_ids == ("s-maya",)
        assert request.urgency == "now"
        assert request.room == "Science 7"
        assert request.section_id == "sec-p2"
        assert request.requested_by == TEACHER
        assert "Support call: sending…" in seen(app)

        wall.advance(6)
        await settle(pilot, app)
        assert "Support call: not sent: call the office (still trying)" in seen(app)

        acknowledge(daemon)
        await settle(pilot, app)
        assert "Support call: sent, waiting for a responder" in seen(app)

        accepted_at = NOW + timedelta(seconds=10)
        deliver(
            daemon,
            request.id,
            {
                "state": "accepted",
                "accepted_by": RESPONDER,
                "accepted_by_name": "Jordan Whitfield",
                "accepted_at": wire_time(accepted_at),
                "updated_at": wire_time(accepted_at),
            },
            cursor=1,
        )
        await settle(pilot, app)
        local = accepted_at.astimezone(store.timezone).strftime("%H:%M")
        assert f"Support call: accepted by Jordan Whitfield at {local}" in seen(app)

        deliver(daemon, request.id, {"state": "resolved", "outcome": "none"}, cursor=2)
        await settle(pilot, app)
        text = seen(app)
        assert "Support call: resolved" in text
        assert "ctrl+x" not in text


async def test_with_no_daemon_to_send_it_the_teacher_is_told_at_once(
    store: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+r", "r")
        await settle(pilot, app)
        assert "Support call for Science 7: not sent: call the office (still trying)" in seen(app)
        acknowledge(daemon)
        await settle(pilot, app)
        assert "Support call for Science 7: sent, waiting for a responder" in seen(app)


async def test_r_calls_for_the_room_w_when_you_can_and_n_adds_a_line(
    store: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+r", "r")
        await settle(pilot, app)
        await pilot.press("s", "a", "m", "ctrl+r", "w")
        await settle(pilot, app)
        await pilot.press("escape", "ctrl+r", "n", *"by the door", "enter")
        await settle(pilot, app)
        room, soon, noted = sorted(list_requests(store), key=lambda request: request.created_at)
        assert room.student_ids == ()
        assert room.urgency == "now"
        assert room.room == "Science 7"
        assert soon.student_ids == ("s-sam",)
        assert soon.urgency == "soon"
        assert noted.note == "by the door"
        assert noted.urgency == "now"


async def test_esc_in_the_call_dialog_sends_nothing(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+r", "escape")
        await settle(pilot, app)
        assert list_requests(store) == []
        assert "Support call" not in seen(app)


async def test_the_teacher_cancels_a_call_after_a_question(store: DeviceStore, seen: Seen) -> None:
    app = ClasslogApp(store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        assert "home.cancel_support" not in {
            binding.binding.id for binding in app.active_bindings.values()
        }
        await pilot.press("ctrl+r", "r")
        await settle(pilot, app)
        assert "home.cancel_support" in {
            binding.binding.id for binding in app.active_bindings.values()
        }
        assert "(ctrl+x cancels)" in seen(app)
        await pilot.press("ctrl+x")
        assert "Cancel your call for support?" in seen(app)
        await pilot.press("n")
        await settle(pilot, app)
        [request] = list_requests(store)
        assert request.state == "open"
        await pilot.press("ctrl+x", "y")
        await settle(pilot, app)
        [request] = list_requests(store)
        assert request.state == "cancelled"
        assert "home.cancel_support" not in {
            binding.binding.id for binding in app.active_bindings.values()
        }
        assert "Support call for Science 7: cancelled" in seen(app)


# -- the mobile responder ---------------------------------------------------------------------


async def test_mobile_home_is_the_school_and_offers_no_teacher_keys(
    mobile: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, MobileHomeScreen)
        text = seen(app)
        assert "Mobile response" in text
        assert "8 students" in text
        assert "Calls: none open" in text
        offered = {binding.binding.id for binding in app.active_bindings.values()}
        assert not offered & {"home.call_support", "home.cancel_support", "home.section"}
        await pilot.press("a", "d", "a")
        assert "Ada Byrne" in seen(app)


async def test_mobile_help_explains_the_calls_and_lists_their_keys(
    mobile: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 60)) as pilot:
        await settle(pilot, app)
        await pilot.press("f1")
        text = seen(app)
        assert "Calls for support come first, oldest at the top" in text
        assert "^a On my way: Take the oldest open call for support" in text
        assert "^n Close call: Close the call you took" in text
        assert "Call support" not in text


async def test_a_new_call_rings_shows_a_banner_and_enter_accepts(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    bells: list[None] = []
    app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+d")
        deliver(daemon, "req-1", call_fields(note="by the sink"), cursor=1)
        await settle(pilot, app)
        await wait_for(pilot, app, "Call for support")
        assert len(bells) == 1
        assert isinstance(app.screen, RequestBannerScreen)
        text = seen(app)
        assert "Call for support NOW (3 min)" in text
        assert "Science 7 · Marisol Alvarez · for Maya Lopez" in text
        assert '"by the sink"' in text
        assert "Enter: on my way" in text

        await pilot.press("enter")
        await settle(pilot, app)
        request = get_request(mobile, "req-1")
        assert request is not None
        assert request.pending_accept
        assert "accepting…" in seen(app)
        assert "Enter: on my way" not in seen(app)

        acknowledge(daemon)
        await settle(pilot, app)
        assert "you are on your way" in seen(app)
        await settle(pilot, app)
        assert len(bells) == 1

        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "TodayScreen"
        await pilot.press("escape")
        await settle(pilot, app)
        text = seen(app)
        assert "Calls (1), oldest first" in text
        assert "3 min NOW Science 7 · Marisol Alvarez · for Maya Lopez" in text
        assert "you are on your way" in text


async def test_an_accept_that_lost_says_who_took_the_call(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    deliver(daemon, "req-1", call_fields(), cursor=1)
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, RequestBannerScreen)
        await pilot.press("enter")
        await settle(pilot, app)
        acknowledge(daemon, OpStatus.SUPERSEDED, "taken")
        deliver(
            daemon,
            "req-1",
            {
                "state": "accepted",
                "accepted_by": "staff-other",
                "accepted_by_name": "Robin Keane",
                "accepted_at": wire_time(NOW),
                "updated_at": wire_time(NOW),
            },
            cursor=2,
        )
        await settle(pilot, app)
        text = seen(app)
        assert "Robin Keane took it first" in text
        assert "Enter: on my way" not in text


async def test_ctrl_a_takes_the_oldest_open_call_from_home(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    deliver(daemon, "req-old", call_fields("req-old"), cursor=1)
    newer = NOW - timedelta(minutes=1)
    deliver(
        daemon,
        "req-new",
        call_fields(
            "req-new",
            student_ids=[],
            room="Science 8",
            created_at=wire_time(newer),
            updated_at=wire_time(newer),
        ),
        cursor=2,
    )
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, RequestBannerScreen)
        await wait_for(pilot, app, "1 more on home")
        await pilot.press("escape")
        await settle(pilot, app)
        text = seen(app)
        assert "Calls (2)" in text
        assert text.index("Science 7") < text.index("Science 8 · Marisol Alvarez · the room")
        await pilot.press("ctrl+a")
        await settle(pilot, app)
        old, new = get_request(mobile, "req-old"), get_request(mobile, "req-new")
        assert old is not None
        assert old.pending_accept
        assert new is not None
        assert not new.pending_accept


async def accepted_call(app: ClasslogApp, pilot: Any, daemon: DeviceStore, **changes: Any) -> None:
    deliver(daemon, "req-1", call_fields(**changes), cursor=1)
    await settle(pilot, app)
    await pilot.press("enter")
    await settle(pilot, app)
    acknowledge(daemon)
    await settle(pilot, app)
    await pilot.press("escape")
    await settle(pilot, app)


async def test_closing_a_call_with_no_record(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await accepted_call(app, pilot, daemon)
        await pilot.press("ctrl+n")
        assert "Close the call" in seen(app)
        await pilot.press("n")
        await settle(pilot, app)
        request = get_request(mobile, "req-1")
        assert request is not None
        assert (request.state, request.outcome, request.incident_id) == ("resolved", "none", None)
        assert "Calls: none open" in seen(app)


async def test_logging_the_level_2_response_opens_prefilled_and_links_the_record(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await accepted_call(app, pilot, daemon)
        await pilot.press("ctrl+n", "l")
        await pilot.pause()
        assert isinstance(app.screen, BehaviorPickerScreen)
        assert "Maya Lopez" in seen(app)
        await pilot.press(*"phys", "enter")
        await pilot.pause()
        text = seen(app)
        assert "(•) Level 2" in text
        assert "[x] Mobile response staff responded" in text
        await pilot.press("r", "enter")
        words = await wait_for(pilot, app, "Going a level higher than advised", "Call closed")
        if "Going a level higher than advised" in words:
            await pilot.press(*"mobile response called", "enter")
        await wait_for(pilot, app, "Call closed: Level 2 response logged")
        request = get_request(mobile, "req-1")
        assert request is not None
        assert (request.state, request.outcome) == ("resolved", "logged")
        incident = mobile.incident(request.incident_id or "")
        assert (incident.student_id, incident.level) == ("s-maya", 2)


async def test_a_tab_out_to_the_responders_room_closes_the_call(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await accepted_call(app, pilot, daemon)
        await pilot.press("ctrl+n", "t")
        assert "Take a Break for Maya Lopez" in seen(app)
        await pilot.press("enter")
        await settle(pilot, app)
        [tab] = mobile.running_tabs()
        assert (tab.student_id, tab.kind) == ("s-maya", TabKind.OUT)
        request = get_request(mobile, "req-1")
        assert request is not None
        assert (request.state, request.outcome) == ("resolved", "tab-out")


async def test_a_room_call_is_closed_by_the_next_record_for_the_student_found_on_home(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await accepted_call(app, pilot, daemon, student_ids=[])
        await pilot.press("ctrl+n", "t")
        await wait_for(pilot, app, "Find the student (type their name),")
        await pilot.press("a", "d", "a", "2", "enter")
        await settle(pilot, app)
        [tab] = mobile.running_tabs()
        assert tab.student_id == "s-ada"
        request = get_request(mobile, "req-1")
        assert request is not None
        assert (request.state, request.outcome) == ("resolved", "tab-out")


async def test_a_room_call_closed_by_logging_links_the_record_of_the_student_found(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await accepted_call(app, pilot, daemon, student_ids=[])
        await pilot.press("ctrl+n", "l")
        await wait_for(pilot, app, "Find the student (type their name),")
        await pilot.press("a", "d", "a", "enter")
        await wait_for(pilot, app, "Log: which behavior?")
        await pilot.press(*"phys", "enter")
        await wait_for(pilot, app, "[x] Mobile response staff responded")
        await pilot.press("r", "enter")
        words = await wait_for(pilot, app, "Going a level higher than advised", "Call closed")
        if "Going a level higher than advised" in words:
            await pilot.press(*"mobile response called", "enter")
        await wait_for(pilot, app, "Call closed: Level 2 response logged")
        request = get_request(mobile, "req-1")
        assert request is not None
        assert (request.state, request.outcome) == ("resolved", "logged")
        assert mobile.incident(request.incident_id or "").student_id == "s-ada"


async def test_a_call_already_closed_elsewhere_is_not_closed_and_says_why(
    mobile: DeviceStore, daemon: DeviceStore, seen: Seen
) -> None:
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await accepted_call(app, pilot, daemon, student_ids=[])
        await pilot.press("ctrl+n", "t")
        await wait_for(pilot, app, "Find the student (type their name),")
        deliver(daemon, "req-1", {"state": "cancelled"}, cursor=2)
        await settle(pilot, app)
        await pilot.press("a", "d", "a", "2", "enter")
        await wait_for(pilot, app, "Call not closed")
        [tab] = mobile.running_tabs()
        assert tab.student_id == "s-ada"
        request = get_request(mobile, "req-1")
        assert request is not None
        assert request.state == "cancelled"


async def test_mobile_home_lists_other_staffs_level_2_with_its_author(
    mobile: DeviceStore, daemon: DeviceStore, tmp_path: Path, wall: Wall, seen: Seen
) -> None:
    """(Its record screen, read-only with the author: tests/tui/test_tui_records.py.)"""
    pull_others_level_2(daemon, tmp_path / "teacher-device", wall)
    mobile.log_incident(
        IncidentDraft(student_id="s-ada", behavior_code="DRESS", level=1, actions=[Action.REDIRECT])
    )
    app = ClasslogApp(mobile)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        text = seen(app)
        assert "Your recent records Sep 14 Ada Byrne Level 1 DRESS Level 2 by other staff" in text
        assert "Sam Okafor Level 2 PHYS-CONTACT by Marisol Alvarez" in text
