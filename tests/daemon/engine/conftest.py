"""The engine tests run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Books


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Books]:
    url = request.getfixturevalue("pg_schema_url") if request.param == "postgresql" else ""
    b = Books(tmp_path, database_url=url)
    yield b
    b.close()
