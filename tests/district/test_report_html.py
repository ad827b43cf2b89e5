"""`classlog district report`: one HTML file with the API's numbers, opened in real headless
Chromium: the charts render, the page asks for nothing outside the file, and it prints on A4 and
on Letter."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browserkit import chromium, chromium_path
from districtkit import District, running_district

from classlog.cli import main as classlog_main
from district.db import create_engine
from district.summaries import run_report
from schema.summaries import SummaryFilters

A4 = (8.27, 11.69)
LETTER = (8.5, 11.0)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    with running_district(tmp_path_factory.mktemp("report-district")) as running:
        yield running


@pytest.fixture(scope="module")
def report_file(district: District, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "review.html"
    assert (
        classlog_main(["district", "report", "--db", district.database_url, "--out", str(out)]) == 0
    )
    return out


class Tables(HTMLParser):
    """Every table's rows (cell texts), by the id of the section around it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._section: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "div" and attributes.get("class") == "section":
            self._section = attributes.get("id")
            self.tables[self._section or ""] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._section is not None:
            self.tables[self._section].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_report_shows_the_same_numbers_as_run_report(
    district: District, report_file: Path
) -> None:
    parser = Tables()
    parser.feed(report_file.read_text(encoding="utf-8"))
    engine = create_engine(district.database_url)
    try:
        big5 = run_report(engine, "big5", SummaryFilters(), None)
    finally:
        engine.dispose()
    behavior_rows = [row for row in big5.rows if row["section"] == "behavior"]
    table = parser.tables["big5-behavior"]
    header, *body = table
    assert header[:2] == ["label", "incidents"]
    assert [(cells[0], int(cells[1])) for cells in body] == [
        (str(row["label"]), int(row["incidents"] or 0)) for row in behavior_rows
    ]
    pushed = district.incidents_between(big5.period_from, big5.period_to)
    assert sum(int(cells[1]) for cells in body) == len(pushed) > 0
    html = report_file.read_text(encoding="utf-8")
    for name in ("big5", "levels", "tab", "follow-ups", "progression", "equity"):
        assert f'id="report-{name}"' in html
    assert "Small cells are suppressed" in html
    assert "<script" not in html
    assert big5.period_from.isoformat() in html


def test_the_report_opens_in_chromium_with_charts_and_no_network_request(
    report_file: Path, tmp_path: Path
) -> None:
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with chromium(tmp_path / "profile") as browser:
        browser.navigate(report_file.as_uri())
        assert browser.requested_urls() == [report_file.as_uri()]
        charts = browser.evaluate(
            """JSON.stringify([...document.querySelectorAll('figure.chart svg')].map(svg => {
                const box = svg.getBoundingClientRect();
                const bars = [...svg.querySelectorAll('rect.rect')].filter(bar => {
                    const b = bar.getBoundingClientRect(); return b.width > 0 && b.height > 0;
                });
                return {width: box.width, height: box.height, bars: bars.length};
            }))"""
        )
        drawn = json.loads(charts)
        assert len(drawn) >= 6
        assert all(chart["width"] > 300 and chart["height"] > 100 for chart in drawn)
        assert all(chart["bars"] >= 1 for chart in drawn)
        shot = browser.screenshot(tmp_path / "report.png")
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000
        for name, (width, height) in (("a4", A4), ("letter", LETTER)):
            pdf = browser.print_pdf(
                tmp_path / f"report-{name}.pdf", width_in=width, height_in=height
            )
            data = pdf.read_bytes()
            assert data.startswith(b"%PDF")
            assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2
        assert browser.requested_urls() == [report_file.as_uri()]


def test_bad_dates_get_one_line_and_write_nothing(
    district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never.html"
    code = classlog_main(
        [
            "district", "report", "--db", district.database_url, "--out", str(out),
            "--from", "2026-11-30", "--to", "2026-11-01",
        ]
    )  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "after" in error
    assert not out.exists()
    assert (
        classlog_main(
            ["district", "report", "--db", district.database_url, "--out", str(tmp_path / "x.pdf")]
        )
        == 2
    )
    assert "HTML" in capsys.readouterr().err
