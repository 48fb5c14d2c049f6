"""Fixtures of the CLI tests (helpers live in cli_fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_fixtures import Daemon, Result, runner, start_daemon


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon in-process with the Etsy simulator behind its etsy channel."""
    yield from start_daemon(tmp_path)


@pytest.fixture
def ms(daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``makersync --json ...`` against ``daemon``."""
    return runner(daemon.address, capsys, "--json")


@pytest.fixture
def ms_tables(daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``makersync ...`` (tables for people) against ``daemon``."""
    return runner(daemon.address, capsys)
