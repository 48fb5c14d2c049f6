"""The Etsy channel through its simulator, end to end: full pull == truth,
requests at the minimum, hidden refunds found, tokens and quotas handled."""

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from makersync.plugins import AuthError, ChannelContext, FakeClock, LimiterRegistry, Window, to_json
from makersync.plugins.etsy import EtsyChannel, EtsySimulator
from makersync.plugins.etsy.simdata import ts
from makersync.plugins.simulate import Faults

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SPAN_S = 31 * 86400


class Rig:
    def __init__(self, faults: Faults | None = None, orders: int = 260, **creds: str) -> None:
        self.clock = FakeClock(START)
        self.sim = EtsySimulator.create(seed=9, orders=orders, days=70, clock=self.clock, faults=faults)
        self.clock.advance(600)
        self.saved: list[dict[str, str]] = []
        self.registry = LimiterRegistry(self.clock)
        self.channel = self.make({**self.sim.credentials(), **creds})

    def make(self, credentials: dict[str, str]) -> EtsyChannel:
        ctx = ChannelContext(credentials=dict(credentials), settings=self.sim.config_section("http://sim"),
                             clock=self.clock, limiters=self.registry, transport=self.sim.transport(),
                             save_credentials=self.saved.append)
        return EtsyChannel(ctx)

    @property
    def ops(self) -> dict[str, int]:
        return dict(self.channel.ctx.stats.by_operation)

    def window(self, days: int = 100, since: datetime | None = None) -> Window:
        return Window(self.clock.now() - timedelta(days=days), self.clock.now(), modified_since=since)

    def orders(self, window: Window, cursor=None) -> dict[str, dict]:
        return {o.external_id: to_json(o) for p in self.channel.iter_orders(window, cursor) for o in p.records}

    def truth_orders(self, window: Window) -> dict[str, dict]:
        return {o.external_id: to_json(o) for o in self.sim.truth()[0] if window.contains(o.placed_at)}


def test_full_pull_equals_truth_with_the_minimum_of_requests():
    """P4: pages = ceil(records / 100) per stream (per state, per 31-day ledger span)."""
    rig = Rig()
    window = rig.window()
    orders = rig.orders(window)
    listings = [to_json(r) for p in rig.channel.iter_listings() for r in p.records]
    fees = [to_json(r) for p in rig.channel.iter_fees(window) for r in p.records]
    truth_orders, truth_listings, truth_fees = rig.sim.truth()
    assert orders == rig.truth_orders(window)
    assert sorted(listings, key=json.dumps) == sorted(map(to_json, truth_listings), key=json.dumps)
    assert sorted(fees, key=json.dumps) == sorted(
        (to_json(f) for f in truth_fees if window.contains(f.occurred_at)), key=json.dumps)

    low, high = int(window.placed_from.timestamp()), int(window.placed_to.timestamp())
    entries = rig.sim.data.ledger()
    spans, start = [], low
    while True:
        end = min(start + SPAN_S, high)
        spans.append(sum(1 for e in entries if start <= e["created_timestamp"] <= end))
        if end >= high:
            break
        start = end
    states = [sum(1 for li in rig.sim.shop.listings if li.state == s)
              for s in ("active", "inactive", "sold_out", "draft", "expired")]
    assert rig.ops == {
        "me": 1,
        "receipts": math.ceil(len(orders) / 100),
        "listings": sum(max(1, math.ceil(n / 100)) for n in states),
        "ledger": sum(max(1, math.ceil(n / 100)) for n in spans),
    }
    assert rig.sim.throttled == 0


def test_refund_on_an_old_receipt_found_through_the_ledger():
    """R5, R11: a refund that leaves update_timestamp alone on a receipt older than the
    trailing window is found by walking the ledger, with one getShopReceipt."""
    rig = Rig()
    full = rig.window()
    rig.orders(full)
    since = rig.clock.now()
    old = next(o for o in rig.sim.shop.orders
               if since - o.placed_at > timedelta(days=45) and not o.refunds and not o.cancelled_at)
    before = rig.truth_orders(full)[str(old.order_id)]
    rig.clock.advance(1200)
    rig.sim.apply_change({"action": "refund", "order": old.order_id, "amount": "3.10"})
    rig.clock.advance(1200)
    assert rig.sim.data.receipt(old)["updated_timestamp"] == ts(rig.sim.data.modified(old))
    rig.channel.ctx.stats.by_operation.clear()
    auto = Window(full.placed_from, rig.clock.now(), modified_since=since - timedelta(minutes=10))
    got = rig.orders(auto)
    want = rig.truth_orders(auto)[str(old.order_id)]
    assert got[str(old.order_id)] == want and want != before
    assert want["refunded"] == "3.10" and want["status"] == "partially_refunded"
    trailing = sum(1 for o in rig.sim.shop.orders if o.placed_at >= rig.clock.now() - timedelta(days=30))
    assert rig.ops == {"ledger": 1, "receipts": 1 + math.ceil(trailing / 100), "receipt": 1}


def test_hidden_changes_in_the_trailing_window_cost_no_extra_request():
    """R5: a refund and a ship-date change inside the trailing window come with the window's pages."""
    rig = Rig()
    full = rig.window()
    rig.orders(full)
    since = rig.clock.now()
    recent = [o for o in rig.sim.shop.orders if since - o.placed_at < timedelta(days=20)
              and o.shipped_at and not o.refunds and not o.cancelled_at][:2]
    rig.clock.advance(600)
    rig.sim.apply_change({"action": "refund", "order": recent[0].order_id, "amount": "2.00"})
    rig.sim.apply_change({"action": "ship", "order": recent[1].order_id})  # a new ship date
    rig.clock.advance(600)
    rig.channel.ctx.stats.by_operation.clear()
    auto = Window(full.placed_from, rig.clock.now(), modified_since=since - timedelta(minutes=10))
    got = rig.orders(auto)
    truth = rig.truth_orders(auto)
    for order in recent:
        assert got[str(order.order_id)] == truth[str(order.order_id)]
    assert "receipt" not in rig.ops


def test_automatic_pull_resumes_from_every_cursor():
    """R14: resuming an automatic pull (ledger, modified, trailing, pending) after any page."""
    rig = Rig()
    full = rig.window()
    since = rig.clock.now()
    rig.clock.advance(600)
    old = [o for o in rig.sim.shop.orders if since - o.placed_at > timedelta(days=40) and not o.cancelled_at][:3]
    for o in old:
        rig.sim.apply_change({"action": "refund", "order": o.order_id, "amount": "1.00"})
    auto = Window(full.placed_from, rig.clock.now(), modified_since=since - timedelta(minutes=10))
    pages = list(rig.channel.iter_orders(auto))
    everything = {o.external_id: to_json(o) for p in pages for o in p.records}
    assert all(str(o.order_id) in everything for o in old)
    for i, page in enumerate(pages):
        cursor = json.loads(json.dumps(page.cursor))
        before = {o.external_id: to_json(o) for p in pages[: i + 1] for o in p.records}
        after = rig.orders(auto, cursor)
        assert {**before, **after} == everything, f"resumed after page {i + 1}/{len(pages)}"


def test_rotated_refresh_token_saved_and_used_across_many_refreshes():
    """F6: each rotated refresh token is saved the moment it is issued, before the new
    access token is used; the old one no longer works, so a lost save would strand the store."""
    rig = Rig(Faults(access_token_ttl_s=300))
    checks = []

    def save(credentials: dict[str, str]) -> None:
        checks.append((credentials["refresh_token"] == rig.sim.refresh_token,
                       credentials["access_token"] == rig.sim.access_token))
    rig.channel.ctx.save_credentials = save
    rig.channel.auth._save = save
    pages = 0
    for _ in rig.channel.iter_fees(rig.window()):
        rig.clock.advance(400)
        pages += 1
    assert rig.channel.auth.refreshes >= pages - 1 > 3
    assert checks and all(fresh_refresh and fresh_access for fresh_refresh, fresh_access in checks)


def test_refused_refresh_token_is_an_auth_error():
    rig = Rig(Faults(access_token_ttl_s=60), refresh_token="9.stale")
    rig.clock.advance(120)
    with pytest.raises(AuthError, match="refresh token"):
        rig.channel.connect()


def test_keystring_without_secret_is_an_auth_error():
    rig = Rig(shared_secret="")
    with pytest.raises(AuthError, match="API key"):
        rig.channel.connect()


def test_connect_finds_the_shop_from_users_me_and_saves_its_id():
    rig = Rig()
    info = rig.channel.connect()
    assert (info.external_shop_id, info.currency) == (str(rig.sim.shop_id), "USD")
    assert rig.saved[-1]["shop_id"] == str(rig.sim.shop_id)
    again = rig.make(rig.saved[-1])
    again.connect()
    assert again.ctx.stats.by_operation == {"shop": 1}


def test_daily_allowance_spent_mid_pull_waits_instead_of_failing():
    """QUALITY R2: once a response says the day's quota is gone (x-remaining-today), the
    pull waits for it to come back and makes no call while none remain."""
    rig = Rig(orders=120)
    rig.sim.qpd = 48  # one call back every 30 minutes
    rig.sim.spend_today(left=2)
    window = rig.window(days=40)
    orders = rig.orders(window)
    listings = [r for p in rig.channel.iter_listings() for r in p.records]
    assert orders == rig.truth_orders(window)
    assert len(listings) == len(rig.sim.truth()[1])
    assert rig.sim.throttled == 0
    calls = sum(n for op, n in rig.ops.items() if op != "token")
    assert calls == 7  # me, one receipts page, five listing states
    assert rig.clock.now() - START > timedelta(minutes=30 * (calls - 3))
    assert rig.channel.auth.refreshes >= 1


def test_buckets_are_one_app_budget_per_keystring():
    """The daily allowance is per app: stores sharing a keystring share the buckets."""
    rig = Rig()
    other = rig.make({**rig.sim.credentials(), "shop_id": "123"})
    assert rig.channel.http.pacer.buckets("receipts") == other.http.pacer.buckets("orders")
    rig.channel.connect()
    keys = set(rig.registry.snapshot())
    assert keys == {f"etsy/{rig.sim.keystring}/second", f"etsy/{rig.sim.keystring}/day"}
    assert rig.registry.snapshot()[f"etsy/{rig.sim.keystring}/day"]["capacity"] == 10000
