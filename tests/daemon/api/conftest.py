"""Fixtures of the api tests (helpers live in api_fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fixtures import Running, start_server


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Running]:
    """An open server (no keys, loopback)."""
    yield from start_server(tmp_path)
