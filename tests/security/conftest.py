"""The attack suite runs against the same seeded two-school server as the district tests: the
fixtures of ``tests/district/conftest.py`` are loaded here under their own names."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

DISTRICT_TESTS = Path(__file__).parents[1] / "district"
sys.path.insert(0, str(DISTRICT_TESTS))


def _district_fixtures() -> Any:
    spec = importlib.util.spec_from_file_location(
        "district_test_fixtures", DISTRICT_TESTS / "conftest.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _district_fixtures()
pg_cluster = _fixtures.pg_cluster
sqlite_seed = _fixtures.sqlite_seed
postgres_seed = _fixtures.postgres_seed
database_url = _fixtures.database_url
sqlite_url = _fixtures.sqlite_url
engine = _fixtures.engine
wall = _fixtures.wall
app = _fixtures.app
http = _fixtures.http
fleet = _fixtures.fleet
