"""Helpers of the scheduler tests: a real DaemonApp on a fake clock, accounts
and stores made through the domain, and a stand-in for the runner."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from makersync.daemon.app import DaemonApp, build_app
from makersync.daemon.config import load_config
from makersync.daemon.domain import accounts, integrations
from makersync.daemon.domain.views import AccountView, StoreView
from makersync.daemon.scheduler import Scheduler
from makersync.daemon.store import pullstate
from makersync.daemon.store.models import PullRow, StoreRow
from makersync.plugins.clock import FakeClock
from makersync.plugins.manager import ChannelRegistry

CHANNELS = ("etsy",)


def make_app(tmp_path: Path, clock: FakeClock, database_url: str | None = None,
             registry: ChannelRegistry | None = None, config_text: str = "",
             env: dict[str, str] | None = None) -> DaemonApp:
    path = None
    if config_text:
        path = tmp_path / "makersyncd.toml"
        path.write_text(config_text)
    config = load_config(path, env=env or {}, flags={"data_dir": str(tmp_path / "data"),
                                                     "database_url": database_url})
    return build_app(config, clock=clock, registry=registry or ChannelRegistry())


class Shops:
    """Accounts and stores made through the domain, and a stand-in runner."""

    def __init__(self, app: DaemonApp) -> None:
        self.app = app
        self._n = 0

    def account(self, plan: str = "studio", time_zone: str = "Europe/Berlin",
                hour: int | None = None) -> AccountView:
        return accounts.create_account(self.app.db, self.app.clock, self.app.plans, "Maker", plan,
                                       "2026-01-01", time_zone, hour)

    def store(self, account: AccountView) -> StoreView:
        self._n += 1
        return integrations.record_store(
            self.app.db, self.app.clock, self.app.plans, self.app.box, account.id, "etsy", CHANNELS,
            external_shop_id=f"shop-{self._n}", shop_name=f"Shop {self._n}",
            credentials={"token": f"tok-{self._n}"})

    def run_queued(self) -> int:
        """Play the runner: every queued pull succeeds at once (an initial or
        automatic one moves the store's high-water mark)."""
        now = self.app.clock.now()
        with self.app.db.write_tx():
            rows = list(PullRow.select().where(PullRow.state == "queued"))
            for row in rows:
                PullRow.update(state="succeeded", started_at=now, finished_at=now).where(
                    PullRow.id == row.id).execute()
                if row.kind in ("initial", "automatic"):
                    StoreRow.update(high_water_mark=now).where(StoreRow.id == row.store_id).execute()
        return len(rows)

    def refuse_credentials(self, store: StoreView) -> None:
        """End the store's queued pull as the engine does when the channel
        refuses the credentials: failed, the store needing a reconnect."""
        pull = PullRow.get((PullRow.store == int(store.id)) & (PullRow.state == "queued"))
        pullstate.finish(self.app.db, pull.id, state="failed", error="refused", now=self.app.clock.now(),
                         store_state="needs_reconnect")

    def reconnect(self, store: StoreView) -> None:
        """Connect the store's shop again with new credentials (active again)."""
        integrations.reconnect_store(self.app.db, self.app.box, store.account_id, "etsy",
                                     external_shop_id=store.external_shop_id, credentials={"token": "new"})

    def automatic(self, store: StoreView | None = None) -> list[Any]:
        query = PullRow.select().where(PullRow.kind == "automatic")
        if store is not None:
            query = query.where(PullRow.store == int(store.id))
        return list(query.order_by(PullRow.created_at, PullRow.id))

    def slot(self, store: StoreView) -> datetime | None:
        return StoreRow.get_by_id(int(store.id)).next_automatic_pull_at


def run_clock(clock: FakeClock, scheduler: Scheduler, shops: Shops, seconds: float,
              step_s: float = 30.0) -> int:
    """Advance the fake clock by ``seconds`` in steps, ticking and running the
    queued pulls at each step. Returns the pulls queued."""
    queued = 0
    elapsed = 0.0
    while elapsed < seconds:
        clock.advance(step_s)
        elapsed += step_s
        queued += scheduler.tick(clock.now())
        shops.run_queued()
    return queued
