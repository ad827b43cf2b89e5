"""Dashboard budgets (issue 13): `classlog admin` start to the first panel drawn, and a filter
change to the panel redrawn (p95), in a real pseudo-terminal at 80x24 against a real
`classlog server` process over a district of 1,000,000 Level 2 incidents (made by
scripts/make_district.py). The summaries API's own latency for the same requests is measured in
the same run, as the floor the dashboard sits on. Prints one Markdown section.

Usage: python scripts/bench_dashboard.py [--quick] [--incidents N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import httpx  # noqa: E402
from bench_device import Terminal, percentile  # noqa: E402

from district.db import create_engine  # noqa: E402
from district.devices import issue_code  # noqa: E402
from tui.admin.filters import PERIOD_LABELS, Filters, Period  # noqa: E402

UP, DOWN, ENTER = b"\x1b[A", b"\x1b[B", b"\r"
PERIODS = list(PERIOD_LABELS)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def classlog(*args: str) -> list[str]:
    return [sys.executable, "-m", "classlog", *args]


def make_district(database_url: str, incidents: int) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_district.py"), "--db", database_url,
         "--incidents", str(incidents)],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - began


def wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server stopped during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def range_text(period: Period, today_text: str, api: httpx.Client) -> bytes:
    """What the status line shows once the panel holds this period's numbers."""
    from datetime import date

    today = date.fromisoformat(today_text)
    params = Filters(period=period).query(today)
    body = api.get("/v1/summaries/big5", params=params).json()
    return f"{body['period_from']} to {body['period_to']}".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 incidents, 6 changes")
    parser.add_argument("--incidents", type=int, default=None)
    parser.add_argument("--changes", type=int, default=None, help="filter changes to time")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the district in DIR")
    args = parser.parse_args()
    incidents = args.incidents or (20_000 if args.quick else 1_000_000)
    changes = args.changes or (6 if args.quick else 30)
    base = args.keep or Path(tempfile.mkdtemp(prefix="classlog-bench-dashboard-"))
    base.mkdir(parents=True, exist_ok=True)
    database = base / "district.db"
    database_url = f"sqlite:///{database}"
    made_s = None
    if not database.exists():
        made_s = make_district(database_url, incidents)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CLASSLOG_DISTRICT_RATE_LIMIT_PER_MINUTE": "1000000",
        "CLASSLOG_DISTRICT_RATE_LIMIT_BURST": "1000000",
    }
    log = (base / "server.log").open("ab")
    server = subprocess.Popen(
        classlog("server", "--db", database_url, "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning"),
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        wait_for_health(url, server)
        home = base / f"admin-{port}"
        engine = create_engine(database_url)
        code = issue_code(
            engine, role="admin", school_id=None, staff_id=None, section_ids=(),
            ttl=timedelta(hours=1),
        ).code  # fmt: skip
        engine.dispose()
        subprocess.run(
            classlog("enroll", url, code, "--home", str(home)), check=True, env=env,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        token = (home / "sync-token").read_text(encoding="ascii").strip()
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        today = datetime.now(UTC).date().isoformat()
        expected = {period: range_text(period, today, api) for period in PERIODS}

        api_ms: list[float] = []
        for index in range(changes):
            period = PERIODS[index % len(PERIODS)]
            params = Filters(period=period).query(datetime.now(UTC).date())
            began = time.perf_counter()
            api.get("/v1/summaries/big5", params=params).raise_for_status()
            api_ms.append((time.perf_counter() - began) * 1000)

        start_s: list[float] = []
        for _ in range(3 if args.quick else 5):
            (home / "admin-cache.json").unlink(missing_ok=True)
            began = time.perf_counter()
            terminal = Terminal(classlog("admin", "--home", str(home)), env)
            try:
                terminal.read_until(b"Fetched", 600)
                start_s.append(time.perf_counter() - began)
            finally:
                terminal.close()

        redraw_ms: list[float] = []
        terminal = Terminal(classlog("admin", "--home", str(home)), env)
        try:
            terminal.read_until(b"Fetched", 600)
            position = PERIODS.index(Period.SCHOOL_YEAR)
            for index in range(changes):
                target = (position + 1 + index % 2) % len(PERIODS)
                step = target - position
                terminal.drain()
                os.write(terminal.fd, b"d")
                terminal.drain(0.2)
                os.write(terminal.fd, (DOWN if step > 0 else UP) * abs(step))
                terminal.drain(0.05)
                terminal.buffer = b""
                began = time.perf_counter()
                os.write(terminal.fd, ENTER)
                terminal.read_until(expected[PERIODS[target]], 300)
                redraw_ms.append((time.perf_counter() - began) * 1000)
                position = target
        finally:
            terminal.close()
        api.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    api_p95 = percentile(api_ms, 0.95)
    redraw_p95 = percentile(redraw_ms, 0.95)
    made = f" (made in {made_s:.0f} s by scripts/make_district.py)" if made_s else ""
    print("## Dashboard\n")
    print(
        f"`classlog admin` in a real pty at 80x24 against a `classlog server` process on SQLite "
        f"with {incidents:,} Level 2 incidents{made}; district scope, Big 5 panel. The machine "
        "is shared with other engineers' runs today: figures may be high.\n"
    )
    print("| what | figure | peer in the same run | ratio |")
    print("|---|---|---|---|")
    print(
        f"| start to first panel drawn (process spawn to the panel's numbers on screen), "
        f"median of {len(start_s)} | {statistics.median(start_s) * 1000:.0f} ms | "
        f"GET /v1/summaries/big5 p50 {statistics.median(api_ms):.0f} ms | "
        f"{statistics.median(start_s) * 1000 / statistics.median(api_ms):.1f}x |"
    )
    print(
        f"| filter change (Enter on a new date range) to redraw, p95 of {len(redraw_ms)} | "
        f"{redraw_p95:.0f} ms (p50 {statistics.median(redraw_ms):.0f} ms) | "
        f"GET /v1/summaries/big5 p95 {api_p95:.0f} ms | {redraw_p95 / api_p95:.2f}x |"
    )
    print(
        "\nCommand: `python scripts/bench_dashboard.py"
        + (" --quick" if args.quick else "")
        + "`. Redraw is timed from writing Enter to the pty until the status line shows the new "
        "period, so it includes the request, the panel's redraw and the terminal output.\n"
    )


if __name__ == "__main__":
    main()
