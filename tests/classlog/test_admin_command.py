"""`classlog admin`, and `classlog` on a device enrolled with an admin code: the dashboard opens
only for an admin device, with one clear line otherwise; the teacher's start-up still never
loads the network client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from classlog.cli import main
from schema.sync_store import SyncStore


def enrolled(home: Path, role: str) -> Path:
    store = SyncStore.open(home)
    try:
        store.record_enrollment(
            server_url="http://127.0.0.1:9", school_id="school-1", role=role, staff_id=None,
            section_ids=[],
        )  # fmt: skip
    finally:
        store.close()
    (home / "sync-token").write_text("token-for-tests", encoding="ascii")
    return home


def test_admin_on_a_device_never_enrolled_says_how_to_enroll(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "--home", str(tmp_path / "fresh")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "not enrolled" in error
    assert "classlog enroll URL CODE" in error


def test_admin_on_a_classroom_device_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = enrolled(tmp_path / "classroom", "classroom")
    assert main(["admin", "--home", str(home)]) == 2
    assert "enrolled as classroom, not admin" in capsys.readouterr().err


def test_classlog_on_an_admin_device_opens_the_dashboard_not_the_teachers_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = enrolled(tmp_path / "admin", "admin")
    opened: list[str] = []
    import tui.admin.app
    import tui.app

    monkeypatch.setattr(tui.admin.app, "run", lambda home, **_: opened.append("admin") or 0)
    monkeypatch.setattr(tui.app, "run", lambda home: opened.append("teacher") or 0)
    assert main(["--home", str(home)]) == 0
    assert opened == ["admin"]
    classroom = enrolled(tmp_path / "classroom", "classroom")
    assert main(["--home", str(classroom)]) == 0
    assert opened == ["admin", "teacher"]


def test_the_teachers_start_up_with_the_admin_check_loads_no_http_client(tmp_path: Path) -> None:
    probe = (
        "from pathlib import Path\n"
        "from tui.admin.connection import enrolled_role\n"
        f"enrolled_role(Path({str(tmp_path)!r}))\n"
        "import tui.app\n"
        "import json, sys\nprint(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    modules = {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}
    assert "httpx" not in modules
    assert "textual_plotext" not in modules
