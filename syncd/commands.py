"""`classlog enroll` and `classlog sync`: the daemon's command line.

Imported by the `classlog` start-up, so only the standard library is imported here at module
level; httpx, pydantic, watchfiles and the store are imported inside the handlers.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from syncd.engine import SyncEngine


def add_commands(subparsers: Any) -> None:
    """Add ``enroll`` and ``sync`` to the `classlog` sub-command parser."""
    from schema.commandline import add_home_option

    enroll = subparsers.add_parser(
        "enroll",
        help="trade an enrollment code for this device's sync token",
        description="Trade a single-use enrollment code from the district for a sync token. "
        "The token is kept in the device's home (mode 0600); the server URL in the device "
        "database.",
    )
    enroll.add_argument("url", metavar="URL", help="the district server, e.g. https://sync.example")
    enroll.add_argument("code", metavar="CODE", help="the enrollment code an administrator made")
    enroll.add_argument("--name", default=None, help="a name for this device (default: host name)")
    add_home_option(enroll)
    enroll.set_defaults(handler=run_enroll)

    sync = subparsers.add_parser(
        "sync",
        help="run the sync daemon (foreground), or one full push and pull with --once",
        description="Push this device's Level 2 records, Take a Break events and follow-ups to "
        "the district server and pull changes back. Level 1 records never leave the device.",
    )
    sync.add_argument(
        "--once",
        action="store_true",
        help="one full push and pull; exit 0 only when nothing is left pending",
    )
    sync.add_argument(
        "--fresh-connections",
        action="store_true",
        help="open a new connection for every request (no keep-alive)",
    )
    add_home_option(sync)
    sync.set_defaults(handler=run_sync)


def _user_error(message: str) -> Exception:
    from schema.errors import UserError

    return UserError(message)


def run_enroll(args: argparse.Namespace) -> int:
    import asyncio
    import socket
    from urllib.parse import urlsplit

    from schema.commandline import home_dir
    from schema.db import NewerDatabaseError
    from schema.sync_store import SyncStore
    from schema.wire import EnrollRequest
    from syncd.client import SyncClient, SyncError
    from syncd.credentials import read_token, write_token

    url = str(args.url).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _user_error(f"not a server URL: {args.url!r} (expected http(s)://host[:port])")
    code = str(args.code).strip()
    if not 4 <= len(code) <= 64:
        raise _user_error("an enrollment code is 4 to 64 characters")
    home = home_dir(args)
    try:
        store = SyncStore.open(home)
    except NewerDatabaseError as error:
        raise _user_error(str(error)) from None
    try:
        request = EnrollRequest(
            code=code, device_id=store.device_id, device_name=args.name or socket.gethostname()
        )

        enrolled_with = urlsplit(store.meta("server_url") or "")
        same_host = (enrolled_with.scheme, enrolled_with.hostname) == (parts.scheme, parts.hostname)
        current_token = read_token(home) if same_host else None

        async def trade() -> Any:
            client = SyncClient(url, current_token)
            try:
                reply, _timed = await client.enroll(request)
            finally:
                await client.aclose()
            return reply

        try:
            reply = asyncio.run(trade())
        except SyncError as error:
            raise _user_error(f"enrollment failed: {error.message}") from None
        if reply.device_id != store.device_id:
            raise _user_error("enrollment failed: the server answered for another device")
        token_file = write_token(home, reply.token)
        store.record_enrollment(
            server_url=url,
            school_id=reply.school_id,
            role=reply.role,
            staff_id=reply.staff_id,
            section_ids=reply.section_ids,
        )
    finally:
        store.close()
    staff = f", staff {reply.staff_id}" if reply.staff_id else ""
    sections = f", sections {', '.join(reply.section_ids)}" if reply.section_ids else ""
    print(
        f"enrolled device {reply.device_id} with {url}: school {reply.school_id}, "
        f"role {reply.role}{staff}{sections}; token saved in {token_file}"
    )
    return 0


def _open_engine(home: Path, *, fresh_connections: bool) -> SyncEngine:
    from schema.db import NewerDatabaseError
    from schema.sync_store import SyncStore
    from syncd.client import SyncClient
    from syncd.credentials import read_token
    from syncd.engine import SyncEngine

    try:
        store = SyncStore.open(home)
    except NewerDatabaseError as error:
        raise _user_error(str(error)) from None
    server_url = store.meta("server_url")
    if not server_url or read_token(home) is None:
        store.close()
        raise _user_error("this device is not enrolled: run `classlog enroll URL CODE` first")
    client = SyncClient(server_url, lambda: read_token(home), keepalive=not fresh_connections)
    return SyncEngine(store, client)


def run_sync(args: argparse.Namespace) -> int:
    import asyncio

    from schema.commandline import home_dir
    from syncd.lock import AlreadyRunningError, DaemonLock

    home = home_dir(args)
    lock = DaemonLock(home)
    try:
        lock.acquire()
    except AlreadyRunningError as error:
        raise _user_error(str(error)) from None
    try:
        engine = _open_engine(home, fresh_connections=args.fresh_connections)
        try:
            if args.once:
                return asyncio.run(_once(engine))
            asyncio.run(_forever(engine))
            return 0
        finally:
            engine.close()
            engine.store.close()
    finally:
        lock.release()


async def _forever(engine: SyncEngine) -> None:
    import logging
    import sys

    from syncd.daemon import Daemon

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    for chatty in ("httpx", "httpcore", "watchfiles"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    daemon = Daemon(engine)
    daemon.install_signal_handlers()
    try:
        await daemon.run()
    finally:
        await engine.client.aclose()


async def _once(engine: SyncEngine) -> int:
    """One full push and pull. 0 only when the outbox is empty afterwards."""
    import functools
    import sqlite3
    import sys

    from syncd.client import SyncError

    store = engine.store
    failure: str | None = None
    try:
        await engine.db(store.record_attempt)
        try:
            pushed = await engine.push()
            pulled = await engine.pull()
        except SyncError as error:
            failure = error.message
            await engine.db(
                functools.partial(store.record_error, online=error.online), error.message
            )
        except sqlite3.OperationalError as error:
            failure = f"local database error: {error}"
        else:
            await engine.db(store.record_success)
            print(
                f"pushed {pushed.acknowledged} op(s) in {pushed.requests} request(s)"
                f"{f', {pushed.dead_lettered} dead-lettered' if pushed.dead_lettered else ''}; "
                f"pulled {pulled.applied} change(s), {pulled.removed} removal(s)"
            )
    finally:
        await engine.client.aclose()
    pending = await engine.db(store.pending_count)
    dead = await engine.db(store.dead_letter_count)
    if dead:
        print(f"{dead} op(s) in the dead-letter list (the server refused them for good)")
    if failure is None and pending == 0:
        return 0
    if failure is not None:
        print(f"sync incomplete: {failure}", file=sys.stderr)
    oldest = await engine.db(store.pending_ops, 10)
    print(f"{pending} op(s) still pending:")
    for op in oldest:
        print(
            f"  #{op.seq} {op.op} {op.kind} {op.entity_id} queued {op.created_at}"
            f" ({op.attempts} attempt(s))"
        )
    if pending > len(oldest):
        print(f"  ... and {pending - len(oldest)} more")
    return 1


def sync_round(home: Path) -> str | None:
    """One push and pull right now, for a command that wants the server's answer (a support
    request sent or accepted from the command line) on a device whose daemon is not running.
    Returns None when the round completed, else one line saying why it did not (the daemon
    holds the device, the device is not enrolled, the server could not be reached)."""
    import asyncio

    from schema.errors import UserError, one_line
    from syncd.lock import AlreadyRunningError, DaemonLock

    lock = DaemonLock(home)
    try:
        lock.acquire()
    except AlreadyRunningError:
        return "the sync daemon is running"
    try:
        try:
            engine = _open_engine(home, fresh_connections=False)
        except UserError as error:
            return one_line(error)
        try:
            return asyncio.run(_quiet_round(engine))
        finally:
            engine.close()
            engine.store.close()
    finally:
        lock.release()


async def _quiet_round(engine: SyncEngine) -> str | None:
    import functools
    import sqlite3

    from syncd.client import SyncError

    store = engine.store
    try:
        await engine.db(store.record_attempt)
        await engine.push()
        await engine.pull()
    except SyncError as error:
        await engine.db(functools.partial(store.record_error, online=error.online), error.message)
        return error.message
    except sqlite3.OperationalError as error:
        return f"local database error: {error}"
    finally:
        await engine.client.aclose()
    await engine.db(store.record_success)
    return None
