"""The PostgreSQL server the database suites run on, and a fresh schema per test.

The server comes from ``MAKERSYNC_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Without one the PostgreSQL
half of the suite is skipped, saying so, except under ``CI=true``, where a
missing server fails the run loudly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest

PG_URL = os.environ.get("MAKERSYNC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_state: dict[str, str] = {}


def pg_unavailable() -> str:
    """'' when the PostgreSQL server answers, else why not (checked once a run)."""
    if "why" not in _state:
        try:
            import psycopg2

            psycopg2.connect(PG_URL, connect_timeout=3).close()
            _state["why"] = ""
        except Exception as exc:  # any failure means "no server for this run"
            _state["why"] = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    return _state["why"]


def require_pg() -> None:
    """Skip the calling test without a server (fail under CI=true)."""
    why = pg_unavailable()
    if why:
        message = f"PostgreSQL suite skipped: no server at {PG_URL} ({why})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def fresh_schema(prefix: str = "t") -> Iterator[str]:
    """A URL whose connections all use a new, empty schema, dropped afterwards
    (the body of a fixture: ``yield from fresh_schema()``)."""
    require_pg()
    import psycopg2

    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = psycopg2.connect(PG_URL)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-c search_path={schema}')}"
    finally:
        admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
