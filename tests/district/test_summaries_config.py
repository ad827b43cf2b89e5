"""The district config the summaries read: the school calendar and the suppression thresholds,
set by `classlog district calendar` / `suppression` or PUT /v1/summaries/config (district admins
only), refused below the floors, and delivered to devices like the rest of the config."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from serverkit import Fleet

from district.__main__ import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_calendar_command_adds_days_and_ranges_and_removes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'district.db'}"
    status, out, _ = run(["district", "calendar", "--db", db], capsys)
    assert status == 0
    assert "time zone: UTC" in out
    assert "non-school dates (0)" in out
    status, out, _ = run(
        [
            "district", "calendar", "--db", db, "--time-zone", "America/Chicago",
            "--add", "2026-11-26,2026-12-24..2026-12-26",
        ],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert "time zone: America/Chicago" in out
    assert "non-school dates (4)" in out
    assert "2026-12-25 Friday" in out
    status, out, _ = run(["district", "calendar", "--db", db, "--remove", "2026-12-25"], capsys)
    assert "non-school dates (3)" in out
    assert "2026-12-25" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--add", "2026-13-01"], "--add must be a date like"),
        (["--add", "2026-12-02..2026-12-01"], "ends before it starts"),
        (["--time-zone", "Mars/Base"], "unknown time zone"),
    ],
)
def test_calendar_command_refuses_bad_input_with_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'district.db'}"
    run(["district", "calendar", "--db", db, "--add", "2026-11-26"], capsys)
    status, out, err = run(["district", "calendar", "--db", db, *argv], capsys)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    _, out, _ = run(["district", "calendar", "--db", db], capsys)
    assert "non-school dates (1)" in out
    assert "time zone: UTC" in out


def test_suppression_command_sets_thresholds_and_refuses_them_below_the_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'district.db'}"
    status, out, _ = run(["district", "suppression", "--db", db], capsys)
    assert out.strip() == '{"min_numerator": 10, "min_denominator": 30}'
    status, out, _ = run(
        ["district", "suppression", "--db", db, "--min-numerator", "5", "--min-denominator", "11"],
        capsys,
    )
    assert status == 0
    assert out.strip() == '{"min_numerator": 5, "min_denominator": 11}'
    for argv, message in (
        (["--min-numerator", "4"], "--min-numerator: Input should be greater than or equal to 5"),
        (["--min-denominator", "9"], "--min-denominator: Input should be greater than or equal"),
        (["--min-numerator", "11"], "must be below the denominator threshold"),
    ):
        status, _, err = run(["district", "suppression", "--db", db, *argv], capsys)
        assert status == 2
        assert message in err
    _, out, _ = run(["district", "suppression", "--db", db], capsys)
    assert out.strip() == '{"min_numerator": 5, "min_denominator": 11}'


async def test_config_endpoint_is_for_district_admins_and_reaches_devices(
    fleet: Fleet, http: httpx.AsyncClient
) -> None:
    body = {
        "calendar": {"time_zone": "America/Chicago", "non_school_dates": ["2026-11-27"]},
        "suppression": {"min_numerator": 11, "min_denominator": 40},
    }
    refused = await http.put("/v1/summaries/config", json=body, headers=fleet.admin_1.headers)
    assert refused.status_code == 403
    stored = await http.put("/v1/summaries/config", json=body, headers=fleet.district_admin.headers)
    assert stored.status_code == 200, stored.text
    read = await http.get("/v1/summaries/config", headers=fleet.admin_1.headers)
    assert read.json() == body
    too_low = {**body, "suppression": {"min_numerator": 4, "min_denominator": 40}}
    response = await http.put(
        "/v1/summaries/config", json=too_low, headers=fleet.district_admin.headers
    )
    assert response.status_code == 422
    assert "greater than or equal to 5" in response.json()["detail"]
    read = await http.get("/v1/summaries/config", headers=fleet.district_admin.headers)
    assert read.json() == body
    changes, _ = await fleet.classroom_1a.pull_all()
    calendar = [c for c in changes if c["kind"] == "config" and c["id"] == "calendar"]
    assert calendar[-1]["fields"]["non_school_dates"] == ["2026-11-27"]
    classroom = await http.get("/v1/summaries/config", headers=fleet.classroom_1a.headers)
    assert classroom.status_code == 403
