"""`classlog demo`: the main job with no set-up.

A throwaway home holds a demo school's roster, a local district server on SQLite with the same
roster, this device enrolled, and the sync daemon running; the TUI opens on top. Everything stops,
and the throwaway directory is removed, when the TUI exits.

`classlog demo --mobile`, typed in a second terminal while a demo runs, opens a mobile response
staff member's screen on that demo: it finds the running demo (a small file in the temporary
directory names its server and district database), makes a mobile enrollment code for the demo
school, enrolls a second throwaway home, pulls its roster, starts its daemon and opens the TUI;
all of it is stopped and removed when that TUI exits.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

from schema.errors import UserError

DEMO_STAFF = "staff-teacher-1"
MOBILE_STAFF = "staff-mobile-1"
"""The demo school's mobile response aide (see classlog.demo_roster)."""
DEMO_SCHOOL = "school-lincoln"
PERIOD_SCHEDULE = {
    "1": "07:45-08:40",
    "2": "08:45-09:40",
    "3": "09:45-10:40",
    "4": "10:45-11:40",
    "5": "12:15-13:10",
    "6": "13:15-14:10",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _classlog(*args: str) -> list[str]:
    return [sys.executable, "-m", "classlog", *args]


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise UserError(f"demo set-up failed at `{' '.join(command[2:])}`: {detail[-1:]}")
    return result.stdout


def _wait_for_health(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError("the demo's district server stopped during start-up")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise UserError("the demo's district server did not start within 20 s")


@contextmanager
def _background(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def seed_history(home: Path) -> None:
    """A few earlier records, so progression advice and the history have something to show."""
    from schema.models import Action, IncidentDraft
    from schema.store import DeviceStore

    store = DeviceStore.open(home)
    try:
        sections = store.sections_for(store.staff_id)
        students = store.students_in_section(sections[0].sourced_id) if sections else []
        now = store.now()
        history = [
            (0, "DIS-CLASS", 1, [Action.REDIRECT], 9),
            (0, "DIS-CLASS", 1, [], 2),
            (1, "LANG-STUDENT", 1, [Action.PRIVATE_CONFERENCE], 6),
            (2, "DEVICE", 1, [Action.REDIRECT], 4),
            (3, "PHYS-CONTACT", 2, [Action.SUPPORT_STAFF, Action.FAMILY_CONTACT], 3),
        ]
        for index, code, level, actions, days_ago in history:
            if index >= len(students):
                continue
            store.log_incident(
                IncidentDraft(
                    student_id=students[index].sourced_id,
                    behavior_code=code,
                    level=level,
                    actions=actions,
                    occurred_at=now - timedelta(days=days_ago, hours=1),
                    location="Classroom",
                )
            )
        store.set_config(period_schedule=json.dumps(PERIOD_SCHEDULE))
    finally:
        store.close()


def running_demo_file() -> Path:
    """Where a running online demo says where it is (one per user and temporary directory)."""
    return Path(tempfile.gettempdir()) / f"classlog-demo-{os.getuid()}.json"


def _announce(url: str, district_db: str) -> None:
    running_demo_file().write_text(
        json.dumps({"url": url, "district_db": district_db, "pid": os.getpid()}),
        encoding="utf-8",
    )


def _withdraw() -> None:
    """Remove the running-demo file, if it is still this process's."""
    path = running_demo_file()
    with suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid():
            path.unlink()


def _running_demo() -> tuple[str, str]:
    """The running demo's server URL and district database, or one clear error."""
    import httpx

    missing = UserError(
        "no demo is running: start `scripts/demo` in another terminal first, then run "
        "`scripts/demo --mobile` here"
    )
    try:
        found = json.loads(running_demo_file().read_text(encoding="utf-8"))
        url, district_db, pid = str(found["url"]), str(found["district_db"]), int(found["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        raise missing from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise missing from None
    except PermissionError:
        pass
    try:
        healthy = httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        raise UserError(f"the running demo's server at {url} does not answer: restart the demo")
    return url, district_db


def run_mobile(keep: Path | None = None, staff: str | None = None) -> int:
    """A mobile response staff member's screen on the running demo, until it is closed."""
    url, district_db = _running_demo()
    base = keep or Path(tempfile.mkdtemp(prefix="classlog-mobile-"))
    base.mkdir(parents=True, exist_ok=True)
    home = base / "device"
    env = {**os.environ, "CLASSLOG_HOME": str(home)}
    try:
        if not (home / "device.db").exists():
            code = _enroll_code(district_db, "mobile", staff or MOBILE_STAFF, env)
            _run(_classlog("enroll", url, code, "--name", "demo mobile response"), env)
            _run(_classlog("sync", "--once"), env)
        with _background(_classlog("sync"), env, base / "sync.log"):
            return _open_tui(home)
    finally:
        if keep is None:
            _remove_unless_in_use(base, home)


def _enroll_code(district_db: str, role: str, staff: str, env: dict[str, str]) -> str:
    command = ["district", "enroll-code", "--school", DEMO_SCHOOL, "--role", role]
    return _run(_classlog(*command, "--staff", staff, "--db", district_db), env).split()[-1]


def run_demo(
    keep: Path | None = None,
    *,
    offline: bool = False,
    admin: bool = False,
    mobile: bool = False,
    staff: str | None = None,
) -> int:
    from classlog.demo_roster import write_demo_roster

    if mobile:
        return run_mobile(keep, staff)
    if staff is not None:
        raise UserError("--staff goes with --mobile (the teacher's demo is Ms. Alvarez's laptop)")

    base = keep or Path(tempfile.mkdtemp(prefix="classlog-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    home = base / "device"
    env = {**os.environ, "CLASSLOG_HOME": str(home)}
    try:
        if admin:
            from classlog.demo_district import run_admin_demo

            return run_admin_demo(base, env)
        roster = write_demo_roster(base / "roster")
        fresh = not (home / "device.db").exists()
        if fresh:
            _run(_classlog("roster", "import", str(roster), "--staff", DEMO_STAFF), env)
            seed_history(home)
        if offline:
            return _open_tui(home)
        return _run_online(base, home, roster, env, fresh)
    finally:
        if keep is None:
            _remove_unless_in_use(base, home)


def _remove_unless_in_use(base: Path, home: Path) -> None:
    """Remove the throwaway directory, unless another classlog process still uses its device
    home (a second screen or a sync daemon started by hand): then it is kept, and said so."""
    from syncd.lock import LOCK_FILE_NAME as SYNC_LOCK
    from tui.session import LOCK_FILE_NAME as TUI_LOCK
    from tui.session import in_use

    if in_use(home / TUI_LOCK) or in_use(home / SYNC_LOCK):
        print(
            f"classlog demo: kept {base}: another classlog process still uses it "
            "(remove it once that process has ended)",
            file=sys.stderr,
        )
        return
    shutil.rmtree(base, ignore_errors=True)


def _open_tui(home: Path) -> int:
    from tui.app import run

    return run(home)


def _run_online(base: Path, home: Path, roster: Path, env: dict[str, str], fresh: bool) -> int:
    district_db = f"sqlite:///{base / 'district.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    if fresh:
        _run(_classlog("district", "import-roster", str(roster), "--db", district_db), env)
    server = _classlog("server", "--db", district_db, "--host", "127.0.0.1", "--port", str(port))
    with _background(server, env, base / "server.log") as server_process:
        _wait_for_health(url, server_process)
        code = _enroll_code(district_db, "classroom", DEMO_STAFF, env)
        _run(_classlog("enroll", url, code), env)
        with _background(_classlog("sync"), env, base / "sync.log"):
            _announce(url, district_db)
            try:
                return _open_tui(home)
            finally:
                _withdraw()
