"""Fixtures of the scheduler tests: a real DaemonApp (its runner not started)
on a fake clock, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sched_fixtures import Shops, make_app

from makersync.daemon.app import DaemonApp
from makersync.daemon.scheduler import Scheduler
from makersync.plugins.clock import FakeClock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock, database_url: str | None) -> Iterator[DaemonApp]:
    daemon = make_app(tmp_path, clock, database_url)
    yield daemon
    daemon.shutdown(1.0)
    daemon.db.close()


@pytest.fixture
def scheduler(app: DaemonApp) -> Scheduler:
    return Scheduler(app)


@pytest.fixture
def shops(app: DaemonApp) -> Shops:
    return Shops(app)
