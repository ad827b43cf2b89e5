"""Device budgets (DESIGN section 9): TUI start-up against a bare Textual app, keystrokes for the
two common flows, durable save latency, and keystroke-to-repaint through a real pty with 40
students on screen and 10,000 local records. Prints one Markdown section.

Usage: python scripts/bench_device.py [--quick] [--only repaint]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schema.models import Action, IncidentDraft, Section, Staff, Student  # noqa: E402
from schema.store import DeviceStore  # noqa: E402

BEHAVIORS = ("DIS-CLASS", "LANG-STUDENT", "DEVICE", "PHYS-CONTACT", "DIS-HALL", "PROP")
GIVEN = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farah", "Gus", "Hana", "Ivan", "Jada")
FAMILY = ("Lopez", "Nguyen", "Okafor", "Smith", "Kowalski", "Haddad", "Reyes", "Kim")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def build_device(home: Path, students: int, records: int) -> tuple[list[float], int]:
    """A device with one section of ``students`` and ``records`` interventions over the year.
    Returns the save latencies (ms) measured while writing them, and how many were written."""
    store = DeviceStore.open(home)
    roster = [
        Student(
            sourced_id=f"s-{number:03}",
            given_name=GIVEN[number % len(GIVEN)],
            family_name=f"{FAMILY[number % len(FAMILY)]}-{number}",
            grade="07",
            iep=number % 8 == 0,
            school_id="sch",
        )
        for number in range(students)
    ]
    store.replace_roster(
        orgs=[("sch", "Lincoln Middle School", "school")],
        staff=[
            Staff(
                sourced_id="t-1",
                given_name="Rosa",
                family_name="Alvarez",
                role="teacher",
                school_id="sch",
            )
        ],
        students=roster,
        sections=[Section(sourced_id="sec-1", title="Math 7", school_id="sch", periods="1")],
        enrollments=[("sec-1", "t-1", "teacher")]
        + [("sec-1", student.sourced_id, "student") for student in roster],
        school_year_start=date(2026, 9, 1),
    )
    store.set_config(staff_id="t-1")
    now = store.now()
    start = max(now - timedelta(days=80), now.replace(month=9, day=2) if now.month >= 9 else now)
    span = (now - start).total_seconds()
    latencies = []
    for number in range(records):
        draft = IncidentDraft(
            student_id=roster[number % students].sourced_id,
            behavior_code=BEHAVIORS[number % len(BEHAVIORS)],
            level=1,
            actions=[Action.REDIRECT],
            occurred_at=start + timedelta(seconds=span * number / max(records, 1)),
        )
        began = time.perf_counter()
        store.log_incident(draft)
        latencies.append((time.perf_counter() - began) * 1000)
    store.close()
    return latencies, records


class Terminal:
    """A program in a real pseudo-terminal, 80x24, read without blocking."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(
                command[0],
                command,
                {**env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"},
            )
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.buffer = b""

    def read_until(self, needle: bytes, timeout: float) -> float:
        """Seconds until ``needle`` appears in the output (appended to the buffer)."""
        began = time.perf_counter()
        while needle not in self.buffer:
            remaining = timeout - (time.perf_counter() - began)
            if remaining <= 0:
                raise TimeoutError(needle)
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                self.buffer += os.read(self.fd, 65536)
        return time.perf_counter() - began

    def drain(self, quiet: float = 0.05) -> None:
        while select.select([self.fd], [], [], quiet)[0]:
            try:
                self.buffer += os.read(self.fd, 65536)
            except OSError:
                return

    def repaint_ms(self, key: bytes, quiet: float = 0.004, timeout: float = 2.0) -> float:
        """Write a key and time until the answering output burst ends."""
        self.drain()
        began = time.perf_counter()
        os.write(self.fd, key)
        last = None
        while True:
            wait = timeout if last is None else quiet
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                break
            self.buffer += os.read(self.fd, 65536)
            last = time.perf_counter()
        if last is None:
            raise TimeoutError("no repaint")
        return (last - began) * 1000

    def close(self) -> None:
        import signal

        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


KEYPROBE_APP = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self):
            yield Static("ready", id="echo")

        def on_key(self, event):
            self.query_one("#echo", Static).update(f"KEY:{event.key}")

    Bare().run()
    """
)


def first_keystroke_seconds(command: list[str], env: dict[str, str], marker: bytes) -> float:
    """From spawning the program in a pty to the screen showing the effect of a `z` key, which
    is sent every 10 ms until it shows (so the figure is at most 10 ms pessimistic)."""
    began = time.perf_counter()
    terminal = Terminal(command, env)
    try:
        while True:
            os.write(terminal.fd, b"z")
            try:
                terminal.read_until(marker, 0.01)
                return time.perf_counter() - began
            except TimeoutError:
                if time.perf_counter() - began > 30:
                    raise
    finally:
        terminal.close()


def with_cached_bytecode(env: dict[str, str], cache: Path) -> dict[str, str]:
    """``env`` for timing start-up with compiled bytecode cached (in ``cache``), as every
    installed program has it: pip compiles a package's modules when it installs it.

    Without this the comparison is lopsided wherever PYTHONDONTWRITEBYTECODE is set (as on the
    dev machines and CI): Textual, installed by pip, starts from its compiled bytecode, while
    classlog's own modules (an editable checkout) are compiled from source at every start,
    which times the compiler rather than the app. The cache is a scratch directory, filled by
    one untimed start of each program, so the work tree is left alone."""
    cached = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(cache)
    return cached


def start_ratio(
    bare: list[str], app: list[str], env: dict[str, str], rounds: int
) -> tuple[float, float]:
    """Median seconds to the first keystroke accepted, for the bare app and for classlog,
    started alternately ``rounds`` times each."""
    bare_times, app_times = [], []
    for _ in range(rounds):
        bare_times.append(first_keystroke_seconds(bare, env, b"KEY:z"))
        app_times.append(first_keystroke_seconds(app, env, b" of 40"))
    return statistics.median(bare_times), statistics.median(app_times)


def incidents_today(home: Path) -> list[Any]:
    store = DeviceStore.open(home)
    try:
        return store.todays_incidents()
    finally:
        store.close()


def running_tabs(home: Path) -> list[Any]:
    store = DeviceStore.open(home)
    try:
        return store.running_tabs()
    finally:
        store.close()


def wait_for(saved: Callable[[], bool], terminal: Terminal, timeout: float = 20.0) -> None:
    """Keep the program running until what its keys should save is in the database (a loaded
    machine may take longer than the pauses between keys), or until ``timeout``."""
    began = time.perf_counter()
    while not saved() and time.perf_counter() - began < timeout:
        terminal.drain(0.1)


def keystroke_flows(home: Path, env: dict[str, str]) -> tuple[int, int, list[str]]:
    """Run the two common flows through the real TUI in a pty, count the keys, and check the
    store got what they should have saved."""
    store = DeviceStore.open(home)
    before = len(store.todays_incidents())
    target = store.students_in_section("sec-1")[5]
    store.close()
    prefix = target.family_name[:2]
    terminal = Terminal([sys.executable, "-m", "classlog", "--home", str(home)], env)
    try:
        terminal.read_until(b"Find:", 30)
        terminal.drain(0.3)
        log_keys = [*prefix, "\r", "1", "r", "\r"]
        for key in log_keys:
            os.write(terminal.fd, key.encode())
            terminal.drain(0.15)
        wait_for(lambda: len(incidents_today(home)) > before, terminal)
        os.write(terminal.fd, b"\x1b")
        terminal.drain(0.3)
        tab_keys = ["1", "\r"]
        for key in tab_keys:
            os.write(terminal.fd, key.encode())
            terminal.drain(0.15)
        wait_for(lambda: bool(running_tabs(home)), terminal)
    finally:
        terminal.close()
    store = DeviceStore.open(home)
    try:
        new = [i for i in store.todays_incidents() if i.student_id == target.sourced_id]
        saved = len(store.todays_incidents()) == before + 1 and new and new[0].level == 1
        running = store.running_tabs()
    finally:
        store.close()
    notes = [f"L1 keys: `{' '.join(repr(k) for k in log_keys)}`", f"TAB keys: `{tab_keys}`"]
    if not saved:
        notes.append("L1 flow did NOT save the expected record")
    if len(running) != 1:
        notes.append("TAB flow did NOT start a Take a Break")
    return len(log_keys), len(tab_keys), notes


def repaint_latencies(home: Path, env: dict[str, str], count: int) -> list[float]:
    """Keystroke to end of the answering repaint on the home screen (arrows and filtering)."""
    terminal = Terminal([sys.executable, "-m", "classlog", "--home", str(home)], env)
    samples: list[float] = []
    try:
        terminal.read_until(b"Find:", 30)
        terminal.drain(0.5)
        keys = [b"\x1b[B"] * 10 + [b"\x1b[A"] * 10 + [b"a", b"\x7f", b"e", b"\x7f"]
        while len(samples) < count:
            for key in keys:
                samples.append(terminal.repaint_ms(key))
                if len(samples) >= count:
                    break
    finally:
        terminal.close()
    return samples


def repaint_row(repaint: list[float]) -> str:
    p95 = percentile(repaint, 0.95)
    return (
        f"| keystroke to repaint, p95 of {len(repaint)} keys | **{p95:.1f} ms** (p50 "
        f"{statistics.median(repaint):.1f} ms) | <= 16 ms | {'ok' if p95 <= 16 else 'OVER'} |"
    )


def only_repaint(records: int, keys: int, quick: bool) -> None:
    """The repaint row alone, on a freshly built device of ``records`` records."""
    with tempfile.TemporaryDirectory(prefix="classlog-bench-") as scratch:
        home = Path(scratch) / "home"
        env = {**os.environ, "TZ": "UTC", "CLASSLOG_HOME": str(home)}
        env.pop("NO_COLOR", None)
        build_device(home, students=40, records=records)
        load_at_start = os.getloadavg()[0]
        repaint = repaint_latencies(home, env, keys)
    load_at_end = os.getloadavg()[0]
    command = "python scripts/bench_device.py --only repaint" + (" --quick" if quick else "")
    print(f"Command: `{command}`. {records:,} local records, 40 students on screen, 80x24 pty.\n")
    print("| what | measured | budget | |")
    print("|---|---|---|---|")
    print(repaint_row(repaint))
    print()
    print(
        f"Machine load (1-minute load average, {os.cpu_count()} cores): {load_at_start:.1f} when "
        f"the keys began, {load_at_end:.1f} when they ended."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only",
        choices=["repaint"],
        help="build the device, then measure only this (prints its row and the load average)",
    )
    args = parser.parse_args()
    records = 500 if args.quick else 10_000
    rounds = 2 if args.quick else 7
    if args.only == "repaint":
        only_repaint(records, 60 if args.quick else 400, args.quick)
        return
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="classlog-bench-") as scratch:
        base = Path(scratch)
        env = {**os.environ, "TZ": "UTC", "CLASSLOG_HOME": str(base / "home")}
        env.pop("NO_COLOR", None)
        latencies, written = build_device(base / "home", students=40, records=records)
        probe = base / "bare.py"
        probe.write_text(KEYPROBE_APP, encoding="utf-8")
        bare_command = [sys.executable, str(probe)]
        app_command = [sys.executable, "-m", "classlog", "--home", str(base / "home")]
        cached = with_cached_bytecode(env, base / "bytecode")
        start_ratio(bare_command, app_command, cached, 1)
        bare, app = start_ratio(bare_command, app_command, cached, rounds)
        uncompiled = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        uncompiled.pop("PYTHONPYCACHEPREFIX", None)
        bare_uncompiled, app_uncompiled = start_ratio(bare_command, app_command, uncompiled, rounds)
        log_keys, tab_keys, notes = keystroke_flows(base / "home", env)
        repaint = repaint_latencies(base / "home", env, 60 if args.quick else 400)
    load_at_end = os.getloadavg()[0]
    command = "python scripts/bench_device.py" + (" --quick" if args.quick else "")
    print("## Device (teacher's terminal)\n")
    print(
        f"Command: `{command}` (part of `scripts/bench`). {records:,} local records, 40 "
        "students in the section on screen, a real pty at 80x24.\n"
    )
    print("| what | measured | budget | |")
    print("|---|---|---|---|")
    ratio = app / bare
    print(
        f"| start to first keystroke accepted | {app * 1000:.0f} ms vs bare Textual app "
        f"{bare * 1000:.0f} ms = **{ratio:.2f} x** (median of {rounds}) | <= 1.3 x | "
        f"{'ok' if ratio <= 1.3 else 'OVER'} |"
    )
    print(
        f"| keystrokes: Level 1, student on screen, top behavior | **{log_keys}** | <= 6 | "
        f"{'ok' if log_keys <= 6 else 'OVER'} |"
    )
    print(
        f"| keystrokes: start a Take a Break | **{tab_keys}** | <= 3 | "
        f"{'ok' if tab_keys <= 3 else 'OVER'} |"
    )
    save_p50 = statistics.median(latencies)
    print(
        f"| save, durable (synchronous=FULL), p50 over {written:,} saves | **{save_p50:.2f} ms** "
        f"(p95 {percentile(latencies, 0.95):.2f} ms) | <= 5 ms | "
        f"{'ok' if save_p50 <= 5 else 'OVER'} |"
    )
    print(repaint_row(repaint))
    print()
    print("Flows driven through the real TUI and checked in the database: " + "; ".join(notes))
    print()
    print(
        "Repaint is timed from writing the key to the pty until its output burst ends (4 ms of "
        "silence, not counted). Start-up sends `z` every 10 ms from spawn until the screen shows "
        "it, for both programs, each started with its compiled bytecode cached (as an installed "
        "program has it; one untimed start of each fills a scratch cache). For reference, with "
        "PYTHONDONTWRITEBYTECODE=1 and no cache, so that classlog's own modules are compiled at "
        f"every start (Textual's are precompiled by pip either way): {app_uncompiled * 1000:.0f} "
        f"ms vs {bare_uncompiled * 1000:.0f} ms = {app_uncompiled / bare_uncompiled:.2f} x."
    )
    print()
    print(
        f"Machine load (1-minute load average, {os.cpu_count()} cores): {load_at_start:.1f} when "
        f"the run began, {load_at_end:.1f} when it ended. Other work on the machine slows both "
        "programs of a start-up pair alike, which is why start-up is reported as a ratio of "
        "starts taken alternately in one run; the absolute figures are only as good as the "
        "machine was quiet."
    )


if __name__ == "__main__":
    main()
