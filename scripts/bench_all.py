"""Run the benchmark sections and write BENCHMARKS.md.

Each `scripts/bench_<part>.py` prints one Markdown section (its figures and the command that
produced them) on stdout. Sections not run this time are kept from the previous BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("device", "server", "sync", "dashboard", "summaries", "support")
HEADER = "# Benchmarks\n\nFigures measured by `scripts/bench` against DESIGN section 9's budgets.\n"
SECTION = re.compile(r"^<!-- bench:([\w-]+) -->\n(.*?)^<!-- /bench:\1 -->\n", re.M | re.S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="PART", help="device, server or sync")
    parser.add_argument("--quick", action="store_true", help="small, fast runs (a smoke test)")
    args = parser.parse_args()
    wanted = args.parts or list(PARTS)
    target = ROOT / "BENCHMARKS.md"
    previous = target.read_text(encoding="utf-8") if target.exists() else ""
    sections = {match[1]: match[2] for match in SECTION.finditer(previous)}
    failed = False
    for part in wanted:
        script = ROOT / "scripts" / f"bench_{part}.py"
        if not script.exists():
            print(f"bench: no {script.name}, skipped", file=sys.stderr)
            continue
        command = [sys.executable, str(script.relative_to(ROOT))]
        command += ["--quick"] if args.quick else []
        print(f"bench: {' '.join(command[1:])}", file=sys.stderr)
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            failed = True
            print(result.stderr, file=sys.stderr)
            continue
        sections[part] = result.stdout.rstrip() + "\n"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    machine = f"{platform.machine()}, {python}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [HEADER, f"Last run {stamp} on {machine}, {_cores()} cores.\n"]
    order = [*PARTS, *(name for name in sections if name not in PARTS)]
    body.extend(
        f"\n<!-- bench:{part} -->\n{sections[part]}<!-- /bench:{part} -->\n"
        for part in order
        if part in sections
    )
    target.write_text("".join(body), encoding="utf-8")
    print(f"bench: wrote {target.name}", file=sys.stderr)
    return 1 if failed else 0


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
