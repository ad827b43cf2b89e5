"""Support request latency: a teacher's call to the request visible on a mobile device.

Real processes on 127.0.0.1: a `classlog server` on SQLite, the teacher's and a responder's
`classlog sync` daemons (each on its own device home, enrolled as classroom and mobile). Each
sample starts just before ``schema.support.send_request`` (the store function the TUI's key
calls) on the teacher's device and ends when the request's row is readable in the responder's
device database (polled every millisecond, as cheaply as the TUI's own poll). The mobile
screen's banner is drawn from that row; the time to draw it is not part of this figure.

Three runs: direct; through the fault proxy with 200 ms added each way on both devices' links;
and direct with 199 more mobile devices of the school long-polling the same server (simulated
clients in a separate process: each holds a long-poll and pulls again when woken, as the daemon
does). Between samples the devices are left to settle (the request is cancelled, and its
cancellation reaches the responder) so every sample starts from long-polls at rest.

Usage: python scripts/bench_support.py [--quick] [--samples N] [--crowd N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fault_proxy import ProxyThread  # noqa: E402

from classlog.demo_roster import write_demo_roster  # noqa: E402
from schema.store import DeviceStore  # noqa: E402
from schema.support import cancel_request, send_request  # noqa: E402

SCHOOL = "school-lincoln"
TEACHER = "staff-teacher-1"
RESPONDER = "staff-mobile-1"
BUDGET_SECONDS = 1.0
SETTLE_SECONDS = 0.4


def classlog(*args: str) -> list[str]:
    return [sys.executable, "-m", "classlog", *args]


def run(*args: str) -> str:
    done = subprocess.run(
        classlog(*args), capture_output=True, text=True, check=False, cwd=ROOT, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"classlog {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class World:
    """The server, the two devices, their daemons and (optionally) their proxies."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.roster = folder / "roster"
        write_demo_roster(self.roster, students=200)
        self.db_url = f"sqlite:///{folder / 'district.db'}"
        run("district", "import-roster", str(self.roster), "--db", self.db_url)
        self.port = free_port()
        self.server: subprocess.Popen[bytes] | None = None
        self.daemons: list[subprocess.Popen[bytes]] = []
        self.proxies: list[ProxyThread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_server(self) -> None:
        log = (self.folder / "server.log").open("ab")
        self.server = subprocess.Popen(
            classlog(
                "server",
                "--db",
                self.db_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={
                **os.environ,
                "CLASSLOG_DISTRICT_RATE_LIMIT_PER_MINUTE": "1000000",
                "CLASSLOG_DISTRICT_RATE_LIMIT_BURST": "1000000",
            },
        )
        log.close()
        import httpx

        def healthy() -> bool:
            try:
                return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_until(healthy, 60):
            raise SystemExit("the server did not start")

    def code(self, role: str, staff: str | None) -> str:
        args = ["district", "enroll-code", "--school", SCHOOL, "--role", role, "--db", self.db_url]
        if staff:
            args += ["--staff", staff]
        return run(*args).split()[0]

    def device(self, name: str, role: str, staff: str, *, delay: float | None) -> Path:
        home = self.folder / name
        run("roster", "import", str(self.roster), "--home", str(home), "--staff", staff)
        url = self.url
        if delay is not None:
            proxy = ProxyThread(self.port)
            proxy.start()
            proxy.set_mode("delay", delay=delay)
            self.proxies.append(proxy)
            url = proxy.url
        run("enroll", url, self.code(role, staff), "--home", str(home))
        log = (self.folder / f"{name}.log").open("ab")
        self.daemons.append(
            subprocess.Popen(
                classlog("sync", "--home", str(home)),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        )
        log.close()
        return home

    def stop(self) -> None:
        for process in [*self.daemons, self.server]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.daemons, self.server]:
            if process is None:
                continue
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for proxy in self.proxies:
            proxy.stop()


def _online(home: Path) -> bool:
    with sqlite3.connect(home / "device.db", timeout=30) as connection:
        row = connection.execute("SELECT online FROM sync_state").fetchone()
    return bool(row and row[0] == 1)


def measure(world: World, teacher: Path, responder: Path, samples: int) -> list[float]:
    """Seconds from the teacher's send to the row on the responder's device, per sample."""
    if not wait_until(lambda: _online(teacher) and _online(responder), 60):
        raise SystemExit("the daemons did not come online")
    store = DeviceStore.open(teacher)
    watcher = sqlite3.connect(responder / "device.db", timeout=30, isolation_level=None)
    latencies: list[float] = []
    try:
        time.sleep(2)
        for _ in range(samples):
            started = time.perf_counter()
            request = send_request(store, note="bench")
            while True:
                row = watcher.execute(
                    "SELECT state FROM support_requests WHERE id = ?", (request.id,)
                ).fetchone()
                if row is not None:
                    break
                if time.perf_counter() - started > 60:
                    raise SystemExit("a request did not arrive within 60 s")
                time.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            cancel_request(store, request.id)

            def cancelled(request_id: str = request.id) -> bool:
                row = watcher.execute(
                    "SELECT state FROM support_requests WHERE id = ?", (request_id,)
                ).fetchone()
                return row is not None and row[0] == "cancelled"

            wait_until(cancelled, 30, 0.01)
            time.sleep(SETTLE_SECONDS)
    finally:
        watcher.close()
        store.close()
    return latencies


CROWD_CLIENT = r"""
import asyncio, json, sys
import httpx

async def poll(client, token, stop_at, caught_up):
    cursor = 0
    headers = {"Authorization": f"Bearer {token}"}
    wait = 0
    while asyncio.get_running_loop().time() < stop_at:
        try:
            reply = await client.get("/v1/sync/pull", params={"cursor": cursor, "wait": wait},
                                     headers=headers, timeout=40)
            if reply.status_code == 200:
                body = reply.json()
                cursor = body["cursor"]
                if not body["has_more"] and wait == 0:
                    wait = 25
                    caught_up()
            else:
                await asyncio.sleep(1)
        except httpx.HTTPError:
            await asyncio.sleep(1)

async def main():
    url, seconds, tokens = sys.argv[1], float(sys.argv[2]), json.loads(sys.stdin.read())
    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens))
    waiting = len(tokens)

    def caught_up():
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            print("ready", flush=True)

    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        stop_at = asyncio.get_running_loop().time() + seconds
        await asyncio.gather(*(poll(client, token, stop_at, caught_up) for token in tokens))

asyncio.run(main())
"""


def start_crowd(world: World, count: int, seconds: float) -> subprocess.Popen[str]:
    """``count`` more mobile devices of the school, enrolled and long-polling."""
    from datetime import UTC, datetime, timedelta

    from district.db import create_engine
    from district.devices import enroll, issue_code
    from schema.wire import EnrollRequest

    engine = create_engine(world.db_url)
    tokens: list[str] = []
    try:
        for number in range(count):
            issued = issue_code(
                engine, role="mobile", school_id=SCHOOL, staff_id=None, ttl=timedelta(hours=1)
            )
            reply = enroll(
                engine,
                EnrollRequest(code=issued.code, device_id=f"crowd-{number:04d}"),
                datetime.now(UTC),
            )
            tokens.append(reply.token)
    finally:
        engine.dispose()
    process = subprocess.Popen(
        [sys.executable, "-c", CROWD_CLIENT, world.url, str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(tokens))
    process.stdin.close()
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("the simulated mobile devices did not catch up")
    return process


def run_case(
    name: str, samples: int, *, delay: float | None = None, crowd: int = 0
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"classlog-bench-support-{name}-"))
    world = World(folder)
    crowd_process: subprocess.Popen[str] | None = None
    try:
        world.start_server()
        if crowd:
            crowd_process = start_crowd(world, crowd, seconds=3600)
        teacher = world.device("teacher", "classroom", TEACHER, delay=delay)
        responder = world.device("responder", "mobile", RESPONDER, delay=delay)
        latencies = measure(world, teacher, responder, samples)
    finally:
        if crowd_process is not None:
            crowd_process.kill()
            crowd_process.wait()
        world.stop()
    return {
        "samples": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
    }


class Terminal:
    """One TUI in its own tmux server, 80x24: keys in by send-keys, the screen by capture-pane."""

    def __init__(self, folder: Path, name: str, home: Path) -> None:
        self.socket = folder / f"{name}.tmux"
        self.name = name
        line = f"{shlex.join(classlog('--home', str(home)))}; sleep 5"
        self._tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", line)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> None:
        if not wait_until(lambda: check(self.screen()), timeout, 0.01):
            raise SystemExit(f"{what} never showed on the {self.name}'s screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )


def measure_screens(samples: int) -> dict[str, Any]:
    """Seconds from the teacher's Enter in the call dialog of a real TUI to the banner drawn on
    a real mobile TUI's screen (tmux capture-pane polled as fast as it answers, a few ms), each
    on its own device with its own daemon, over a real server on loopback. Between samples the
    responder closes the banner and the teacher cancels the call (not timed)."""
    folder = Path(tempfile.mkdtemp(prefix="classlog-bench-support-screens-"))
    world = World(folder)
    terminals: list[Terminal] = []
    latencies: list[float] = []
    try:
        world.start_server()
        teacher_home = world.device("teacher", "classroom", TEACHER, delay=None)
        responder_home = world.device("responder", "mobile", RESPONDER, delay=None)
        if not wait_until(lambda: _online(teacher_home) and _online(responder_home), 60):
            raise SystemExit("the daemons did not come online")
        teacher = Terminal(folder, "teacher", teacher_home)
        responder = Terminal(folder, "responder", responder_home)
        terminals += [teacher, responder]
        teacher.wait(lambda screen: "ctrl+r calls support" in screen, "the teacher's home")
        responder.wait(lambda screen: "Calls: none open" in screen, "the mobile home")
        for _ in range(samples):
            teacher.send("C-r")
            teacher.wait(lambda screen: "Call for support to" in screen, "the call dialog")
            started = time.perf_counter()
            teacher.send("Enter")
            responder.wait(lambda screen: "Call for support NOW" in screen, "the banner", 60)
            latencies.append(time.perf_counter() - started)
            responder.send("Escape")
            responder.wait(lambda screen: "Esc: close" not in screen, "the banner closing")
            teacher.wait(lambda screen: "ctrl+x cancels" in screen, "the teacher's line")
            teacher.send("C-x")
            teacher.wait(lambda screen: "Cancel your call" in screen, "the cancel question")
            teacher.send("y")
            responder.wait(lambda screen: "Calls: none open" in screen, "the cancellation")
            time.sleep(SETTLE_SECONDS)
    finally:
        for terminal in terminals:
            terminal.close()
        world.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "samples": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
    }


def _row(label: str, result: dict[str, Any]) -> str:
    within = result["p95"] <= BUDGET_SECONDS
    verdict = "within budget" if within else "OVER BUDGET"
    return (
        f"| {label} | {result['samples']} | {result['p50'] * 1000:.0f} ms | "
        f"{result['p95'] * 1000:.0f} ms | {result['max'] * 1000:.0f} ms | "
        f"p95 at most 1 s: {verdict} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 samples, 50 crowd devices")
    parser.add_argument("--samples", type=int, help="requests per run (default 50)")
    parser.add_argument("--crowd", type=int, help="other long-polling devices (default 199)")
    parser.add_argument(
        "--screens",
        action="store_true",
        help="only the screen-to-screen run: the teacher's key in a real TUI to the banner "
        "drawn on a real mobile TUI (tmux)",
    )
    args = parser.parse_args()
    samples = args.samples or (10 if args.quick else 50)
    if args.screens:
        return print_screens(samples)
    crowd = args.crowd if args.crowd is not None else (49 if args.quick else 199)
    command = "python scripts/bench_support.py" + (" --quick" if args.quick else "")
    if args.samples:
        command += f" --samples {args.samples}"
    if args.crowd is not None:
        command += f" --crowd {args.crowd}"
    direct = run_case("direct", samples)
    delayed = run_case("delayed", samples, delay=0.2)
    crowded = run_case("crowd", samples, crowd=crowd)
    load = os.getloadavg()[0]
    print("## Support requests (issue 11)\n")
    print(
        f"Command: `{command}` (real `classlog server` on SQLite, the teacher's and a "
        "responder's `classlog sync` daemons, 127.0.0.1)\n"
    )
    print(
        "From just before `schema.support.send_request` on the teacher's device (the store "
        "function the TUI's key calls) to the request's row readable in the responder's "
        "device database. The banner on the mobile screen is drawn from that row by the TUI's "
        "poll; drawing it is not included.\n"
    )
    print("| run | requests | p50 | p95 | max | budget |")
    print("|---|---|---|---|---|---|")
    print(_row("loopback, direct", direct))
    print(_row("through the fault proxy, 200 ms added each way on both links", delayed))
    print(_row(f"direct, with {crowd + 1} mobile devices long-polling one server", crowded))
    print(
        "\nIn the crowded run a call concerns every mobile device of the school, so its commit "
        "wakes every long-poll, and each reads its page and checks its token again in the "
        f"server's worker threads before it answers: the responder's answer takes its turn "
        f"among the {crowd} others."
    )
    print(
        f"\nLoad average when the runs ended: {load:.1f} on {os.cpu_count()} cores (the "
        "crowd's simulated devices run on the same machine)."
    )
    return 0


def print_screens(samples: int) -> int:
    result = measure_screens(samples)
    load = os.getloadavg()[0]
    print("## Support requests, screen to screen (issue 11)\n")
    print(
        f"Command: `python scripts/bench_support.py --screens --samples {samples}` (real "
        "`classlog server` on SQLite, the teacher's and a responder's `classlog sync` daemons "
        "and TUIs, each TUI in its own tmux at 80x24, 127.0.0.1)\n"
    )
    print(
        "From the teacher's Enter in the call dialog (tmux send-keys) to the banner's words "
        "on the mobile TUI's screen (tmux capture-pane, polled every few ms).\n"
    )
    print("| run | requests | p50 | p95 | max | budget |")
    print("|---|---|---|---|---|---|")
    print(_row("teacher's key to the banner drawn, loopback, direct", result))
    print(f"\nLoad average when the run ended: {load:.1f} on {os.cpu_count()} cores.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
