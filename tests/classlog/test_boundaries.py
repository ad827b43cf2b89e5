"""Start-up stays light: the teacher's `classlog` never loads the server's stack or the network
client, and the headless packages never load Textual."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY_FOR_TEACHERS = ("fastapi", "sqlalchemy", "uvicorn", "psycopg", "alembic", "httpx")
UI_MODULES = ("textual", "rich")


def loaded_modules(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


def test_cli_parser_and_tui_app_do_not_import_the_server_stack_or_httpx() -> None:
    modules = loaded_modules(
        "from classlog.cli import build_parser\nbuild_parser()\nimport tui.app"
    )
    assert "textual" in modules
    assert not modules & set(HEAVY_FOR_TEACHERS)


def test_schema_store_does_not_import_textual_or_rich() -> None:
    modules = loaded_modules("import schema.store, schema.wire, schema.grid")
    assert not modules & set(UI_MODULES)


NOT_ON_THE_FIRST_SCREEN = (
    "pydantic",
    "pydantic_core",
    "schema.models",
    "schema.store",
    "schema.grid",
    "schema.progression",
    "schema.sync_store",
    "schema.wire",
    "httpx",
    "sqlalchemy",
    "fastapi",
    "syncd",
    "district",
)

FIRST_PAINT_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path

    import tui.app
    from schema.rows import DeviceReader

    class FirstPaint(tui.app.ClasslogApp):
        CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))

        def on_ready(self) -> None:
            self.modules_at_ready = sorted(sys.modules)
            self.screen_at_ready = type(self.screen).__name__
            self.rows_at_ready = self.screen.query_one("StudentList").shown_count
            self.exit()

    async def main() -> None:
        app = FirstPaint(reader=DeviceReader.open_reader(Path(sys.argv[1])))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
        print(json.dumps({
            "screen": app.screen_at_ready,
            "rows": app.rows_at_ready,
            "modules": app.modules_at_ready,
        }))

    asyncio.run(main())
    """
)


def test_the_first_screen_is_painted_without_the_models_the_store_or_the_network(
    tmp_path: Path, device_home: Path
) -> None:
    """The teacher's home screen is read through plain rows: pydantic, the store's write path,
    the grid and anything of the network or the server load only after it is on screen."""
    probe = tmp_path / "first_paint.py"
    probe.write_text(FIRST_PAINT_PROBE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(probe), str(device_home)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["screen"] == "HomeScreen"
    assert seen["rows"] == 4
    loaded = set(seen["modules"])
    assert "textual" in loaded
    assert "schema.rows" in loaded
    assert (
        sorted(
            name
            for name in NOT_ON_THE_FIRST_SCREEN
            if name in loaded or any(module.startswith(name + ".") for module in loaded)
        )
        == []
    )
