"""Test wiring shared by the daemon suites: a daemon App over a real database and a channel
simulator on a fake clock, driven synchronously so every pull is repeatable."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from makersync.daemon.app import DaemonApp, build_app
from makersync.daemon.config import Config
from makersync.daemon.domain import accounts as dom_accounts
from makersync.daemon.domain import catalog as dom_catalog
from makersync.daemon.domain import pulls as dom_pulls
from makersync.daemon.store import leases
from makersync.plugins.clock import FakeClock
from makersync.plugins.manager import load_channels
from makersync.plugins.simulate import Simulator

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SIM_URL = "http://simulated.invalid"


class Books:
    """One account with stores on simulators, its daemon App, and helpers
    that read the books back through the domain layer (as the API does)."""

    def __init__(self, tmp_path: Path, database_url: str = "") -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock(START)
        self.registry = load_channels()
        self.sims: dict[str, Simulator] = {}
        self.database_url = database_url
        self.app: DaemonApp | None = None

    def add_sim(self, channel: str, **options: Any) -> Simulator:
        cls = self.registry.get(channel)
        sim = cls.simulator_class.create(clock=self.clock, **options)  # type: ignore[attr-defined]
        self.sims[channel] = sim
        return sim

    def start(self) -> DaemonApp:
        config = Config(data_dir=self.tmp_path / "data", database_url=self.database_url,
                        channels={name: sim.config_section(SIM_URL) for name, sim in self.sims.items()})
        self.app = build_app(config, clock=self.clock, registry=self.registry,
                             transports={name: sim.transport() for name, sim in self.sims.items()})
        return self.app

    def close(self) -> None:
        if self.app is not None:
            self.app.shutdown(1.0)
            self.app.db.close()

    # -- driving -------------------------------------------------------------

    def account(self, plan: str = "business", start_date: str = "2025-06-01", tz: str = "UTC") -> str:
        assert self.app is not None
        return dom_accounts.create_account(self.app.db, self.clock, self.app.plans, "Clay & Co", plan,
                                           start_date, tz).id

    def connect(self, account_id: str, channel: str) -> str:
        assert self.app is not None
        return self.app.connect(account_id, channel, self.sims[channel].credentials(), "").id

    def run_pulls(self) -> list[str]:
        """Claim and run every queued pull in this thread; returns their final states."""
        assert self.app is not None
        states = []
        while True:
            claim = leases.claim_next(self.app.db, self.app.engine.settings.owner, self.clock.now(),
                                      self.app.engine.settings.lease_s)
            if claim is None:
                return states
            states.append(self.app.engine.run(claim, threading.Event()))

    def manual_pull(self, store_id: str, start: str, end: str, dry_run: bool = False) -> str:
        assert self.app is not None
        return self.app.request_pull(store_id, start, end, dry_run).id

    def automatic_pull(self, store_id: str) -> str:
        assert self.app is not None
        now = self.clock.now()
        # the engine sets an automatic pull's window when it starts (R5)
        return dom_pulls.enqueue_pull(self.app.db, self.clock, store_id, "automatic",
                                      now - timedelta(days=1), now).id

    def pull(self, pull_id: str) -> Any:
        assert self.app is not None
        return dom_pulls.get_pull(self.app.db, pull_id)

    def orders(self, account_id: str) -> list[Any]:
        return _all(lambda tok: dom_catalog.list_orders(self.app.db, account_id, page_size=1000, page_token=tok))

    def products(self, account_id: str) -> list[Any]:
        return _all(lambda tok: dom_catalog.list_products(self.app.db, account_id, page_size=1000, page_token=tok))

    def fees(self, account_id: str) -> list[Any]:
        return _all(lambda tok: dom_catalog.list_fees(self.app.db, account_id, page_size=1000, page_token=tok))


def _all(fetch: Any) -> list[Any]:
    out: list[Any] = []
    token = ""
    while True:
        page = fetch(token)
        out.extend(page.items)
        token = page.next_page_token
        if not token:
            return out
