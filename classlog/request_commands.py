"""`classlog request`: support requests from a script, through the same store functions the
TUI's keys call (R9).

A command that needs the server's answer (send, accept) waits a few seconds for it: the sync
daemon sends the change at once when it runs; when it does not, the command runs one push and
pull itself. What is printed is only what the server confirmed: an accept that lost names who
took the request and exits 3; a change the server has not confirmed in time exits 4 and says
to call the office. Heavy imports stay inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from schema.commandline import add_home_option, home_dir
from schema.errors import UserError

if TYPE_CHECKING:
    from schema.store import DeviceStore
    from schema.support import SupportRequest

URGENCY_CHOICES = ("now", "soon")
OUTCOME_CHOICES = ("none", "logged", "tab-out")
DEFAULT_WAIT_SECONDS = 5.0
EXIT_LOST = 3
EXIT_UNCONFIRMED = 4
POLL_SECONDS = 0.05


def add_commands(commands: Any) -> None:
    request = commands.add_parser(
        "request",
        help="call for mobile response staff, or answer a call (support requests)",
        description="Support requests: a teacher calls for an additional staff member; mobile "
        "response staff accept (the first to reach the server takes it) and resolve. Exit "
        f"status: 0 done, 2 bad input, {EXIT_LOST} another responder took the request first, "
        f"{EXIT_UNCONFIRMED} the server has not confirmed the change yet (call the office; the "
        "device keeps trying).",
    )
    request_commands = request.add_subparsers(
        dest="request_command", metavar="COMMAND", required=True
    )

    send = request_commands.add_parser(
        "send", help="call for support for this room or some of its students (prints the id)"
    )
    send.add_argument(
        "--student", action="append", default=[], metavar="ID", help="a student (repeatable)"
    )
    send.add_argument("--urgency", choices=URGENCY_CHOICES, default="now")
    send.add_argument("--note", default="", help="one short line (at most 140 characters)")
    send.add_argument("--section", metavar="ID", help="the section (default: the one on now)")
    _wait_option(send)
    send.set_defaults(handler=send_command)

    listing = request_commands.add_parser(
        "list", help="requests on this device: id, state, who, room, minutes waiting"
    )
    listing.add_argument("--open", action="store_true", help="only open and accepted ones")
    listing.set_defaults(handler=list_command)

    accept = request_commands.add_parser(
        "accept", help="take a request (mobile response devices): on my way"
    )
    accept.add_argument("request_id", metavar="ID")
    _wait_option(accept)
    accept.set_defaults(handler=accept_command)

    resolve = request_commands.add_parser("resolve", help="close a request you took")
    resolve.add_argument("request_id", metavar="ID")
    resolve.add_argument("--outcome", choices=OUTCOME_CHOICES, required=True)
    resolve.add_argument(
        "--incident", metavar="ID", help="the Level 2 record logged in answer (--outcome logged)"
    )
    resolve.set_defaults(handler=resolve_command)

    cancel = request_commands.add_parser("cancel", help="call off your own request")
    cancel.add_argument("request_id", metavar="ID")
    cancel.set_defaults(handler=cancel_command)

    for parser in (request, send, listing, accept, resolve, cancel):
        add_home_option(parser)


def _wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for the server's answer (default {DEFAULT_WAIT_SECONDS:g})",
    )


def _open(args: argparse.Namespace) -> DeviceStore:
    from classlog.device_commands import open_store

    return open_store(args)


def _daemon_running(store: DeviceStore) -> bool:
    import os

    pid = store.daemon_pid()
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _await_server(
    args: argparse.Namespace, store: DeviceStore, request_id: str
) -> SupportRequest | None:
    """The request once the server has answered this device's last change to it (or as it
    stands when ``--wait`` runs out). Without a daemon, one push and pull is run here."""
    from schema.support import get_request
    from syncd.commands import sync_round

    problem: str | None = None
    deadline = time.monotonic() + max(0.0, args.wait)
    if not _daemon_running(store):
        problem = sync_round(home_dir(args))
    while True:
        request = get_request(store, request_id)
        if request is None or (request.confirmed and not request.pending_accept):
            break
        if request.refused is not None or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if request is not None and not request.confirmed and problem:
        print(f"classlog: not sent yet: {problem}", file=sys.stderr)
    return request


def send_command(args: argparse.Namespace) -> int:
    from schema.support import send_request, status_words

    store = _open(args)
    try:
        request = send_request(
            store,
            student_ids=args.student,
            urgency=args.urgency,
            note=args.note,
            section_id=args.section,
        )
        print(request.id, flush=True)
        settled = _await_server(args, store, request.id) or request
        words = status_words(settled, store.now())
        if not settled.confirmed and settled.refused is None:
            words = "not sent: call the office (still trying)"
        print(words, file=sys.stderr)
        return 0 if settled.confirmed else EXIT_UNCONFIRMED
    finally:
        store.close()


def _minutes_waiting(request: SupportRequest, now: Any) -> int:
    end = now if request.is_live else (request.resolved_at or request.accepted_at or now)
    return max(0, int((end - request.created_at).total_seconds() // 60))


def list_command(args: argparse.Namespace) -> int:
    from schema.support import list_requests

    store = _open(args)
    try:
        now = store.now()
        for request in list_requests(store, open_only=args.open):
            who = request.requested_by_name or request.requested_by
            state: str = request.state
            if request.state in ("accepted", "resolved") and request.accepted_by:
                state += f" by {request.accepted_by_name or request.accepted_by}"
            if request.pending_accept:
                state += " (your accept is waiting for the server)"
            if request.lost_to:
                state += f" (taken by {request.lost_to})"
            if not request.confirmed:
                state += " (not confirmed by the server)"
            room = _plain(request.room or "-")
            print(
                f"{request.id}\t{state}\t{_plain(who)}\t{room}\t"
                f"{_minutes_waiting(request, now)} min"
            )
        return 0
    finally:
        store.close()


def _plain(text: str) -> str:
    """Text from people, printed as one plain line (no terminal escapes, no tabs)."""
    return "".join(character if character.isprintable() else " " for character in text)


def accept_command(args: argparse.Namespace) -> int:
    from schema.support import SupportError, accept_request, get_request

    store = _open(args)
    try:
        try:
            accept_request(store, args.request_id)
        except SupportError:
            known = get_request(store, args.request_id)
            taker = None if known is None else _taken_by_another(known, store.staff_id)
            if taker is None:
                raise
            print(f"classlog: not yours: this request was taken by {taker}", file=sys.stderr)
            return EXIT_LOST
        settled = _await_server(args, store, args.request_id)
        if settled is None:
            raise UserError(f"the request {args.request_id} is no longer on this device")
        taker = _taken_by_another(settled, store.staff_id)
        if taker is not None:
            print(f"classlog: not yours: this request was taken by {taker}", file=sys.stderr)
            return EXIT_LOST
        if settled.state in ("cancelled", "expired"):
            print(
                f"classlog: not yours: this request was {settled.state} before your accept "
                "reached the server",
                file=sys.stderr,
            )
            return EXIT_LOST
        if settled.state == "accepted" and settled.accepted_by == store.staff_id:
            room = _plain(settled.room or "the room")
            print(f"accepted: on your way to {room} ({settled.id})")
            return 0
        print(
            "classlog: your accept has not reached the server yet: call the office "
            "(the device keeps trying)",
            file=sys.stderr,
        )
        return EXIT_UNCONFIRMED
    finally:
        store.close()


def _taken_by_another(request: SupportRequest, staff_id: str | None) -> str | None:
    """Who took the request, when someone other than this staff member did."""
    if request.lost_to is not None:
        return request.lost_to
    if request.state in ("accepted", "resolved") and request.accepted_by not in (None, staff_id):
        return request.accepted_by_name or request.accepted_by
    return None


def resolve_command(args: argparse.Namespace) -> int:
    from schema.support import resolve_request

    store = _open(args)
    try:
        request = resolve_request(store, args.request_id, args.outcome, args.incident)
        print(f"resolved ({request.outcome}): {request.id}")
        return 0
    finally:
        store.close()


def cancel_command(args: argparse.Namespace) -> int:
    from schema.support import cancel_request

    store = _open(args)
    try:
        request = cancel_request(store, args.request_id)
        print(f"cancelled: {request.id}")
        return 0
    finally:
        store.close()
