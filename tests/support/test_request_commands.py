"""`classlog request` in-process, on a real device database: the exit status and the one line
a script reads when an accept cannot be had."""

from __future__ import annotations

import pytest
from supportkit import acknowledge, deliver

from classlog.cli import main
from schema.fields import row_to_wire
from schema.store import DeviceStore
from schema.support import send_request


def _taken_by_kim(teacher: DeviceStore, responder: DeviceStore) -> str:
    request = send_request(teacher, note="hall")
    [fields] = acknowledge(teacher)
    deliver(responder, request.id, fields, 1)
    row = teacher.connection.execute(
        "SELECT * FROM support_requests WHERE id = ?", (request.id,)
    ).fetchone()
    taken = {
        **row_to_wire("support_request", row),
        "state": "accepted",
        "accepted_by": "m-2",
        "accepted_by_name": "Kim Diaz",
        "accepted_at": "2026-10-14T15:00:01.000+00:00",
    }
    deliver(responder, request.id, taken, 2)
    return request.id


def _home(store: DeviceStore) -> str:
    """The device folder the store's database file lives in, as ``--home`` takes it."""
    path = str(store.connection.execute("PRAGMA database_list").fetchone()[2])
    return path.rsplit("/", 1)[0]


def test_an_accept_of_a_request_already_taken_names_the_taker_and_exits_3(
    teacher: DeviceStore, responder: DeviceStore, capsys: pytest.CaptureFixture[str]
) -> None:
    request_id = _taken_by_kim(teacher, responder)
    home = _home(responder)
    status = main(["request", "accept", request_id, "--home", home, "--wait", "0"])
    captured = capsys.readouterr()
    assert status == 3
    assert captured.err == "classlog: not yours: this request was taken by Kim Diaz\n"
    assert captured.out == ""


def test_an_unknown_request_is_one_line_and_exit_2(
    responder: DeviceStore, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _home(responder)
    status = main(["request", "accept", "nope", "--home", home, "--wait", "0"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == "classlog: no support request 'nope' on this device\n"


def test_the_list_prints_one_plain_line_per_request(
    teacher: DeviceStore, responder: DeviceStore, capsys: pytest.CaptureFixture[str]
) -> None:
    request_id = _taken_by_kim(teacher, responder)
    home = _home(responder)
    assert main(["request", "list", "--home", home]) == 0
    [line] = capsys.readouterr().out.splitlines()
    fields = line.split("\t")
    assert fields[:4] == [request_id, "accepted by Kim Diaz", "Rosa Alvarez", "Math 7"]
    assert fields[4].endswith(" min")
    assert fields[4].removesuffix(" min").isdigit()
