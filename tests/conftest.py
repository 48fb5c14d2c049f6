"""Fixtures shared by every suite. Heavy imports stay inside the fixtures, so a
broken daemon module never stops the plugin and SDK suites from being collected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Any]:
    """A daemon App on a SQLite file with simulators on a fake clock
    (see tests/harness.py; tests/daemon/engine runs it on PostgreSQL too)."""
    from tests.harness import Books

    b = Books(tmp_path)
    yield b
    b.close()
