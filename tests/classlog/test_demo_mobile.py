"""`classlog demo --mobile` finds the running demo, or says plainly that none runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classlog import demo


def run_demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "classlog", "demo", *args],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_with_no_demo_running_it_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--mobile")
    assert result.returncode == 2
    assert "no demo is running: start `scripts/demo` in another terminal first" in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_demo_that_has_ended_is_not_taken_for_a_running_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    demo.running_demo_file().write_text(
        json.dumps(
            {"url": "http://127.0.0.1:9", "district_db": "sqlite:///x", "pid": int(ended.stdout)}
        ),
        encoding="utf-8",
    )
    result = run_demo(tmp_path, "--mobile")
    assert result.returncode == 2
    assert "no demo is running" in result.stderr


def test_staff_goes_with_mobile_only(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--offline", "--staff", "staff-teacher-2")
    assert result.returncode == 2
    assert "--staff goes with --mobile" in result.stderr
