"""Support requests with real processes (R9, invariant 9): the real `classlog server`, a
teacher's and responders' `classlog sync` daemons, the fault proxy, and the `classlog request`
commands. The test writes as the TUI's keys do (``schema.support``'s store functions) and reads
each device's database as its screen would.

Each device gets its own fault proxy, so one can be cut off while the others stay online."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from realworld import (
    MOBILE_STAFF,
    ROOT,
    SCHOOL,
    TEACHER_STAFF,
    DeviceHome,
    ProxyThread,
    Server,
    Templates,
    World,
    classlog,
    copy_database,
    free_port,
    run,
    wait_until,
)

from schema.models import IncidentDraft
from schema.support import (
    SupportRequest,
    accept_request,
    get_request,
    list_requests,
    send_request,
    status_words,
)

pytestmark = pytest.mark.e2e
SECOND_RESPONDER = "staff-teacher-2"


class SupportWorld(World):
    """A world whose devices each talk to the server through their own fault proxy."""

    def __init__(self, folder: Path, templates: Templates, **server_env: str) -> None:
        super().__init__(folder, templates, **server_env)
        self.proxies: dict[str, ProxyThread] = {}

    def __exit__(self, *exc: object) -> None:
        for device in self.devices:
            device.close()
        for proxy in self.proxies.values():
            proxy.stop()
        super().__exit__(*exc)

    def own_device(self, name: str, role: str, staff: str) -> DeviceHome:
        proxy = ProxyThread(self.server.port, capture=self.folder / f"{name}-upstream.bin")
        proxy.start()
        self.proxies[name] = proxy
        home = self.folder / name
        home.mkdir(mode=0o700)
        copy_database(self.templates.device_home / "device.db", home / "device.db")
        with sqlite3.connect(home / "device.db") as connection:
            connection.execute("DELETE FROM meta WHERE key IN ('device_id', 'hlc')")
        device = DeviceHome(home, self.folder / f"{name}.log")
        device.store.set_config(staff_id=staff)
        device.enroll(proxy.url, self.server.code(role, staff))
        self.devices.append(device)
        return device


@pytest.fixture
def world(tmp_path: Path, templates: Templates) -> Iterator[SupportWorld]:
    with SupportWorld(tmp_path, templates) as running:
        yield running


def online(*devices: DeviceHome) -> bool:
    return all(device.state()["online"] == 1 for device in devices)


def seen(device: DeviceHome, request_id: str) -> SupportRequest | None:
    return get_request(device.store, request_id)


def pending(device: DeviceHome, request_id: str) -> bool:
    request = seen(device, request_id)
    return request is not None and request.pending_accept


def words(device: DeviceHome, request_id: str) -> str:
    request = seen(device, request_id)
    assert request is not None
    return status_words(request, device.store.now())


def staff_name(device: DeviceHome, staff_id: str) -> str:
    member = device.store.staff_member(staff_id)
    assert member is not None
    return member.display_name


def request_command(device: DeviceHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        classlog("request", *args, "--home", str(device.home)),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )


def server_rows(server: Server) -> list[tuple[str, str]]:
    with sqlite3.connect(server.db, timeout=30) as connection:
        return list(connection.execute("SELECT id, state FROM support_requests ORDER BY id"))


def test_two_responders_accept_at_once_exactly_one_wins_and_the_other_is_told_who(
    world: SupportWorld, templates: Templates
) -> None:
    teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
    responders = [
        world.own_device("mobile-a", "mobile", MOBILE_STAFF),
        world.own_device("mobile-b", "mobile", SECOND_RESPONDER),
    ]
    for device in (teacher, *responders):
        device.start_daemon()
    assert wait_until(lambda: online(teacher, *responders), 30)
    request = send_request(teacher.store, student_ids=[templates.student_ids[0]], note="hall")
    for responder in responders:
        assert wait_until(lambda responder=responder: seen(responder, request.id) is not None, 15)
    # Both accepts are recorded while the responders are cut off, so neither device can learn of
    # the other's before its own is sent: the race is decided by the server, as it is when two
    # responders press at the same moment.
    for name in ("mobile-a", "mobile-b"):
        world.proxies[name].set_mode("reset")
    accepts = [
        subprocess.Popen(
            classlog(
                "request", "accept", request.id, "--wait", "60", "--home", str(responder.home)
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for responder in responders
    ]
    assert wait_until(lambda: all(pending(responder, request.id) for responder in responders), 30)
    for name in ("mobile-a", "mobile-b"):
        world.proxies[name].set_mode("pass")
    answers = [process.communicate(timeout=120) for process in accepts]
    codes = [process.returncode for process in accepts]
    assert sorted(codes) == [0, 3], answers
    winner_index = codes.index(0)
    winner, loser = responders[winner_index], responders[1 - winner_index]
    winner_name = staff_name(teacher, (MOBILE_STAFF, SECOND_RESPONDER)[winner_index])
    assert answers[winner_index][0].startswith("accepted: on your way to ")
    assert answers[1 - winner_index][1].strip() == (
        f"classlog: not yours: this request was taken by {winner_name}"
    )
    assert wait_until(lambda: words(teacher, request.id).startswith(f"accepted by {winner_name}"))
    lost = seen(loser, request.id)
    assert lost is not None
    assert (lost.lost_to, lost.pending_accept, lost.state) == (winner_name, False, "accepted")
    taken = seen(winner, request.id)
    assert taken is not None
    assert (taken.state, taken.accepted_by_name, taken.lost_to) == ("accepted", winner_name, None)


def test_a_teacher_offline_is_told_at_once_and_the_call_goes_when_back_online(
    world: SupportWorld,
) -> None:
    teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
    responder = world.own_device("mobile", "mobile", MOBILE_STAFF)
    teacher.start_daemon()
    responder.start_daemon()
    assert wait_until(lambda: online(teacher, responder), 30)
    world.proxies["teacher"].set_mode("reset")
    request = send_request(teacher.store, note="fight brewing")
    assert words(teacher, request.id) == "sending…"
    assert wait_until(
        lambda: words(teacher, request.id) == "not sent: call the office (still trying)", 15
    )
    assert seen(responder, request.id) is None
    world.proxies["teacher"].set_mode("pass")
    assert wait_until(lambda: words(teacher, request.id) == "sent, waiting for a responder", 90)
    assert wait_until(lambda: seen(responder, request.id) is not None, 15)
    accept_request(responder.store, request.id)
    name = staff_name(teacher, MOBILE_STAFF)
    assert wait_until(lambda: words(teacher, request.id).startswith(f"accepted by {name} at "))


def test_a_responder_offline_past_the_limit_gets_the_open_requests_and_not_the_expired(
    tmp_path: Path, templates: Templates
) -> None:
    """The district's limit is set to six seconds (the server's setting) so "offline for ten
    minutes" needs no ten-minute wait."""
    with SupportWorld(
        tmp_path, templates, CLASSLOG_DISTRICT_SUPPORT_REQUEST_EXPIRY_MINUTES="0.1"
    ) as world:
        teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
        responder = world.own_device("mobile", "mobile", MOBILE_STAFF)
        teacher.start_daemon()
        assert wait_until(lambda: online(teacher), 30)
        stale = send_request(teacher.store, note="first call")
        assert wait_until(lambda: words(teacher, stale.id) == "expired: call the office", 60)
        fresh = send_request(teacher.store, note="second call")
        assert wait_until(lambda: words(teacher, fresh.id) == "sent, waiting for a responder")
        responder.start_daemon()
        assert wait_until(lambda: seen(responder, fresh.id) is not None, 30)
        assert [request.id for request in list_requests(responder.store, open_only=True)] == [
            fresh.id
        ]
        expired = seen(responder, stale.id)
        assert expired is None or expired.state == "expired"
        assert dict(server_rows(world.server)) == {stale.id: "expired", fresh.id: "open"}


def test_the_server_restarted_mid_request_loses_nothing_and_both_sides_catch_up(
    world: SupportWorld,
) -> None:
    teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
    responder = world.own_device("mobile", "mobile", MOBILE_STAFF)
    teacher.start_daemon()
    responder.start_daemon()
    assert wait_until(lambda: online(teacher, responder), 30)
    request = send_request(teacher.store, note="restart")
    assert wait_until(lambda: seen(responder, request.id) is not None, 15)
    world.server.kill()
    pending = accept_request(responder.store, request.id)
    assert pending.pending_accept
    time.sleep(1)
    waiting = seen(responder, request.id)
    assert waiting is not None
    assert waiting.pending_accept
    assert waiting.state == "open"
    assert words(teacher, request.id) == "sent, waiting for a responder"
    world.server.start()
    name = staff_name(teacher, MOBILE_STAFF)
    assert wait_until(lambda: words(teacher, request.id).startswith(f"accepted by {name}"), 90)
    taken = seen(responder, request.id)
    assert taken is not None
    assert (taken.state, taken.pending_accept, taken.confirmed) == ("accepted", False, True)


def test_through_a_faulty_link_the_call_arrives_exactly_once(
    world: SupportWorld, templates: Templates
) -> None:
    teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
    responder = world.own_device("mobile", "mobile", MOBILE_STAFF)
    teacher.start_daemon()
    responder.start_daemon()
    assert wait_until(lambda: online(teacher, responder), 30)
    proxy = world.proxies["teacher"]
    proxy.push_fault("drop_reply")
    proxy.push_fault("reset")
    proxy.push_fault("drop_reply")
    request = send_request(teacher.store, student_ids=[templates.student_ids[1]])
    assert wait_until(lambda: words(teacher, request.id) == "sent, waiting for a responder", 90)
    assert wait_until(lambda: seen(responder, request.id) is not None, 15)
    proxy.set_mode("delay", delay=0.2)
    accept_request(responder.store, request.id)
    assert wait_until(lambda: words(teacher, request.id).startswith("accepted by "), 60)
    assert server_rows(world.server) == [(request.id, "accepted")]
    assert [item.id for item in list_requests(responder.store)] == [request.id]
    assert teacher.pending() == 0


def test_a_support_request_never_carries_level_1_content(
    world: SupportWorld, templates: Templates
) -> None:
    """Invariant 1 across a call for support about a student with a Level 1 record: every byte
    the teacher's device sends is captured by its proxy (not even the Level 1 record's behavior
    code goes), and the server's files and log are searched for its note and id."""
    teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
    responder = world.own_device("mobile", "mobile", MOBILE_STAFF)
    student = templates.student_ids[2]
    marker = "PRIV-L1-support-c0ffee"
    private = teacher.store.log_incident(
        IncidentDraft(student_id=student, behavior_code="DIS-CLASS", level=1, note=marker)
    )
    teacher.start_daemon()
    responder.start_daemon()
    assert wait_until(lambda: online(teacher, responder), 30)
    request = send_request(teacher.store, student_ids=[student], note="please come")
    assert wait_until(lambda: seen(responder, request.id) is not None, 30)
    accept_request(responder.store, request.id)
    assert wait_until(lambda: words(teacher, request.id).startswith("accepted by "), 30)
    world.server.stop()
    sent = (world.folder / "teacher-upstream.bin").read_bytes()
    stored = world.server.file_bytes()
    assert request.id.encode() in sent
    assert b"DIS-CLASS" not in sent
    for secret in (marker.encode(), private.id.encode()):
        assert secret not in sent
        assert secret not in stored


def test_the_command_line_refuses_what_a_device_may_not_do_in_one_line(
    world: SupportWorld,
) -> None:
    teacher = world.own_device("teacher", "classroom", TEACHER_STAFF)
    other = world.own_device("teacher-2", "classroom", "staff-teacher-2")
    responder = world.own_device("mobile", "mobile", MOBILE_STAFF)
    for device in (teacher, other, responder):
        device.start_daemon()
    assert wait_until(lambda: online(teacher, other, responder), 30)
    sent = request_command(teacher, "send", "--note", "from the command line", "--wait", "60")
    assert sent.returncode == 0, sent.stderr
    request_id = sent.stdout.strip()
    assert sent.stderr.strip() == "sent, waiting for a responder"
    refused = request_command(teacher, "accept", request_id)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "classlog: only a mobile response device can accept a support request "
        "(this device is enrolled as classroom)"
    )
    assert "Traceback" not in refused.stderr
    assert request_command(other, "cancel", request_id).returncode == 2
    assert wait_until(lambda: seen(responder, request_id) is not None, 15)
    listed = request_command(responder, "list", "--open")
    assert listed.returncode == 0
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[:2] == [request_id, "open"]
    accepted = request_command(responder, "accept", request_id, "--wait", "60")
    assert accepted.returncode == 0, accepted.stderr
    resolved = request_command(responder, "resolve", request_id, "--outcome", "none")
    assert resolved.returncode == 0, resolved.stderr
    assert wait_until(lambda: words(teacher, request_id) == "resolved", 30)
    bad = request_command(responder, "resolve", request_id, "--outcome", "maybe")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_two_server_processes_on_postgresql_wake_each_others_long_polls(
    tmp_path: Path, templates: Templates
) -> None:
    """The teacher's daemon talks to one server process, the responder's to another, both on
    one PostgreSQL. Their database re-read is set to 60 s, longer than the responder's
    long-poll, so only LISTEN/NOTIFY can bring the call to the responder while it waits."""
    from district.pgcluster import find_bindir, start_cluster

    if find_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL")
        pytest.skip("no PostgreSQL here")
    cluster = start_cluster()
    servers: list[PostgresServer] = []
    devices: list[DeviceHome] = []
    try:
        url = cluster.url()
        run("district", "import-roster", str(templates.roster), "--db", url)
        for name in ("a", "b"):
            server = PostgresServer(
                url,
                tmp_path / f"server-{name}.db",
                free_port(),
                tmp_path / f"server-{name}.log",
                {"CLASSLOG_DISTRICT_LONG_POLL_DB_INTERVAL_SECONDS": "60"},
            )
            server.start()
            servers.append(server)
        teacher = _plain_device(tmp_path, templates, "teacher", servers[0], "classroom")
        responder = _plain_device(tmp_path, templates, "mobile", servers[1], "mobile")
        devices += [teacher, responder]
        teacher.start_daemon()
        responder.start_daemon()
        assert wait_until(lambda: online(teacher, responder), 30)
        time.sleep(2)
        request = send_request(teacher.store, note="across processes")
        assert wait_until(lambda: seen(responder, request.id) is not None, 10)
        accept_request(responder.store, request.id)
        assert wait_until(lambda: words(teacher, request.id).startswith("accepted by "), 10)
    finally:
        for device in devices:
            device.close()
        for server in servers:
            server.stop()
        cluster.stop()


class PostgresServer(Server):
    def __init__(self, url: str, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.postgres_url = url

    @property
    def db_url(self) -> str:
        return self.postgres_url


def _plain_device(
    folder: Path, templates: Templates, name: str, server: Server, role: str
) -> DeviceHome:
    staff = TEACHER_STAFF if role == "classroom" else MOBILE_STAFF
    home = folder / name
    home.mkdir(mode=0o700)
    copy_database(templates.device_home / "device.db", home / "device.db")
    with sqlite3.connect(home / "device.db") as connection:
        connection.execute("DELETE FROM meta WHERE key IN ('device_id', 'hlc')")
    device = DeviceHome(home, folder / f"{name}.log")
    device.store.set_config(staff_id=staff)
    code = run(
        "district", "enroll-code", "--school", SCHOOL, "--role", role, "--staff", staff,
        "--db", server.db_url,
    ).split()[0]  # fmt: skip
    device.enroll(server.url, code)
    return device
