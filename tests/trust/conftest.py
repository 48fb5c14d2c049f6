"""Fixtures of the trust suites (QUALITY F5, F6, R1, R2, B1, B2, O1, O2) and the
session-end summary of their figures.

PostgreSQL: ``pg_url`` is a URL on a fresh schema of ``MAKERSYNC_TEST_PG_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``) from ``tests/pg.py``:
skipped without a server, saying so, and a failure under ``CI=true``.

``MAKERSYNC_SOAK=1`` turns on the long runs (more shops, pulls, kills and
fuzz cases); without it every suite stays sized for CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trust_figures

SOAK = os.environ.get("MAKERSYNC_SOAK", "") not in ("", "0", "false")


def soak(ci: int, long: int) -> int:
    """``long`` under MAKERSYNC_SOAK=1, else ``ci``."""
    return long if SOAK else ci


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections all use a fresh, empty schema
    (tests/pg.py: skipped without a server, a failure under CI=true)."""
    from tests.pg import fresh_schema

    yield from fresh_schema("trust")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """'' (SQLite in the test's data dir) or a PostgreSQL URL on a fresh schema."""
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else ""


@pytest.fixture
def trust_books(tmp_path: Path) -> Iterator[Any]:
    """A :class:`trust_kit.TrustBooks` on a SQLite file (add simulators, then ``start()``)."""
    from trust_kit import TrustBooks

    books = TrustBooks(tmp_path)
    yield books
    books.close()


@pytest.fixture
def json_log() -> Iterator[Any]:
    """The daemon's log lines (JSON) for the test, in a StringIO."""
    import io

    from makersync.daemon.logging import configure_logging

    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    try:
        yield buffer
    finally:
        configure_logging()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = trust_figures.lines()
    if not lines:
        return
    terminalreporter.section("trust figures (QUALITY F5 F6 R1 R2 B1 B2 O1 O2)")
    for line in lines:
        terminalreporter.write_line(line)
