"""Start-up stays light: the teacher's `classlog` never loads the server's stack or the network
client, and the headless packages never load Textual."""

from __future__ import annotations

import json
import subprocess
import sys

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
