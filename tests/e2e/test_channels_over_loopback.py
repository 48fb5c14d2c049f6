"""Issues 5 and 6: the real daemon process pulling the Shopify and Amazon
simulators over loopback, checked against their ground truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fleet import Daemon, wait_for, write_config

from makersync.clients.client import MakersyncClient
from makersync.plugins.amazon import AmazonSimulator
from makersync.plugins.shopify import ShopifySimulator
from makersync.plugins.simulate import SimServer
from makersync.v1 import resources_pb2 as res

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DONE = (res.PULL_STATE_SUCCEEDED, res.PULL_STATE_FAILED, res.PULL_STATE_CANCELLED)


def _run_initial_pull(tmp_path: Path, channel: str, sim: object) -> tuple[res.Store, res.PullJob, list[res.Order]]:
    server = SimServer(sim).start()  # type: ignore[arg-type]
    config = write_config(tmp_path / "makersyncd.toml", {
        "log": {"format": "json", "level": "warning"},
        "scheduler": {"poll_s": 0.1},
        f"channels.{channel}": sim.config_section(server.base_url),  # type: ignore[attr-defined]
    })
    daemon = Daemon(channel, config, tmp_path / "data", {"MAKERSYNC_SECRET_KEY": Fernet.generate_key().decode()})
    try:
        with MakersyncClient(daemon.wait_listening()) as client:
            year_ago = (datetime.now(UTC) - timedelta(days=364)).date().isoformat()
            account = client.create_account("Loopback Goods", "business", year_ago, "UTC")
            store = client.connect(account.id, channel, sim.credentials())  # type: ignore[attr-defined]
            job = wait_for(lambda: (j := client.get_pull(store.initial_pull_id)).state in DONE and j, 120,
                           f"the {channel} initial pull")
            return store, job, list(client.iter_orders(account.id))
    finally:
        daemon.kill()
        daemon.dump()
        server.stop()


def test_shopify_without_read_all_orders_reads_60_days_and_says_so(tmp_path: Path) -> None:
    """R2: a floor a year back, but Shopify shows this app only 60 days of orders:
    the store warns on connect, the pull covers only what it could read and says
    so, and every order of those 60 days reaches the books."""
    sim = ShopifySimulator.create(seed=8, orders=300, days=120, speed=20.0, grant_all_orders=False)
    store, job, orders = _run_initial_pull(tmp_path, "shopify", sim)
    assert job.state == res.PULL_STATE_SUCCEEDED, job.error
    assert any("read_all_orders" in w for w in store.warnings)
    assert any("R2" in w for w in job.warnings)
    start = job.window_start.ToDatetime(tzinfo=UTC)
    assert timedelta(days=59) < datetime.now(UTC) - start < timedelta(days=61)
    visible = [o for o in sim.truth()[0] if o.placed_at >= start]
    assert visible == sim.truth()[0], "the simulator's truth is what the app may see"
    assert 0 < len(visible) < len(sim.shop.orders), "the shop has older orders the app cannot read"
    assert sorted(o.external_id for o in orders) == sorted(o.external_id for o in visible)
    assert sum(Decimal(o.total.amount) for o in orders) == sum(o.total for o in visible)


def test_amazon_initial_pull_equals_truth_with_minimum_requests(tmp_path: Path) -> None:
    """R14, P4: every order, refund and fee of the Amazon shop, in the fewest requests:
    ceil(orders / 100) searchOrders pages, the finance pages and the inventory page."""
    sim = AmazonSimulator.create(seed=4, orders=250, days=60, speed=50.0)
    _store, job, orders = _run_initial_pull(tmp_path, "amazon", sim)
    assert job.state == res.PULL_STATE_SUCCEEDED, job.error
    truth = {o.external_id: o for o in sim.truth()[0]}
    assert {o.external_id for o in orders} == set(truth)
    assert all(Decimal(o.refunded.amount) == truth[o.external_id].refunded for o in orders)
    by_op = sim.by_path
    assert by_op.get("searchOrders") == -(-len(truth) // 100), by_op
    assert "getOrder" not in by_op, "no per-order calls in an initial pull"
    assert by_op.get("getInventorySummaries") == 1, by_op
    assert job.throttled_responses == 0
