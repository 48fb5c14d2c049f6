"""The Amazon channel through its simulator on a FakeClock (R2, R5, R11, R12, R14, R15; P2, P4, F6)."""

from __future__ import annotations

import math
from datetime import timedelta

import httpx
import pytest

from makersync.plugins import (
    AuthError,
    ChannelContext,
    FakeClock,
    LimiterRegistry,
    OrderStatus,
    PermanentChannelError,
    Window,
    to_json,
)
from makersync.plugins.amazon import AmazonChannel, AmazonSimulator
from makersync.plugins.amazon.auth import AmazonPacer
from makersync.plugins.amazon.finances import chunks
from makersync.plugins.conformance import assert_same_records, by_key

SIM_URL = "http://simulated.invalid"


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


def make(sim: AmazonSimulator, clock: FakeClock, **creds: str) -> tuple[AmazonChannel, list[dict]]:
    saved: list[dict] = []
    ctx = ChannelContext(credentials={**sim.credentials(), **creds}, settings=sim.config_section(SIM_URL),
                         clock=clock, transport=sim.transport(), save_credentials=saved.append)
    return AmazonChannel(ctx), saved


def drain(pages) -> tuple[list, list, list]:
    records, aside, cursors = [], [], []
    for page in pages:
        records += page.records
        aside += page.set_aside
        cursors.append(page.cursor)
    return records, aside, cursors


def test_full_pull_equals_truth_at_the_minimum_request_count(clock: FakeClock) -> None:
    """P4: ceil(orders/100) searchOrders pages + the finance pages of each <=180-day chunk +
    ceil(listings/50) inventory pages, and nothing else (no getOrder, one LWA token); the
    fees stream reuses the transactions the orders stream walked. Records == truth (R11, R12)."""
    sim = AmazonSimulator.create(clock=clock, seed=3, orders=450, days=60)
    clock.advance(600)
    ch, _ = make(sim, clock)
    now = clock.now()
    window = Window(now - timedelta(days=400), now)
    orders, a1, cur = drain(ch.iter_orders(window))
    listings, a2, _ = drain(ch.iter_listings())
    fees, a3, _ = drain(ch.iter_fees(window))
    t_orders, t_listings, t_fees = sim.truth()
    assert not (a1 or a2 or a3)
    assert_same_records(orders, t_orders, "orders")
    assert_same_records(listings, t_listings, "listings")
    assert_same_records(fees, [f for f in t_fees if window.contains(f.occurred_at)], "fees")
    walk_end = now - timedelta(minutes=2, seconds=1)
    finance_pages = sum(max(1, math.ceil(sum(1 for t in sim.transactions() if lo <= t.posted < hi) / 100))
                        for lo, hi in chunks(window.placed_from, walk_end))
    assert len(chunks(window.placed_from, walk_end)) == 3  # 400 days: split in 180-day queries
    assert ch.ctx.stats.by_operation == {
        "lwaToken": 1,
        "searchOrders": math.ceil(450 / 100),
        "listTransactions": finance_pages,
        "getInventorySummaries": math.ceil(len(t_listings) / 50),
    }
    assert sim.throttled == 0
    assert {o.status for o in orders} >= {OrderStatus.SHIPPED, OrderStatus.REFUNDED, OrderStatus.CANCELLED}
    assert {o.fulfillment for o in orders} == {"FBA", "MFN"}
    estimates = [p for p in cur if p.get("phase") in ("orders", "done")]
    assert estimates


def test_orders_pages_report_an_estimated_total(clock: FakeClock) -> None:
    """A long searchOrders backfill reports progress: Amazon gives no count, the covered share of the window does."""
    sim = AmazonSimulator.create(clock=clock, seed=2, orders=600, days=60)
    clock.advance(600)
    ch, _ = make(sim, clock)
    now = clock.now()
    pages = [p for p in ch.iter_orders(Window(now - timedelta(days=61), now)) if p.records]
    assert all(p.estimated_total for p in pages)
    assert 400 <= pages[0].estimated_total <= 900 and pages[-1].estimated_total == 600


def test_refund_two_days_after_the_order_reaches_the_automatic_pull(clock: FakeClock) -> None:
    """R5, R11, F4: a refund leaves lastUpdatedTime alone and shows in Finances late; the
    automatic pull's 48 h trailing walk of the ledger brings it to its order, and its fees."""
    sim = AmazonSimulator.create(clock=clock, seed=4, orders=200, days=30)
    clock.advance(600)
    ch, _ = make(sim, clock)
    window = Window(clock.now() - timedelta(days=31), clock.now())
    drain(ch.iter_orders(window))
    target = next(o for o in sorted(sim.truth()[0], key=lambda o: o.placed_at, reverse=True)
                  if o.status is OrderStatus.SHIPPED and o.total > 20)
    mark = clock.now()
    clock.advance(2 * 86400)  # two days after the order
    sim.apply_change({"action": "refund", "order": target.external_id, "amount": "20.00"})
    clock.advance(600)
    auto = Window(window.placed_from, clock.now(), modified_since=mark - timedelta(minutes=10))
    got = by_key(drain(make(sim, clock)[0].iter_orders(auto))[0])
    assert (target.external_id,) not in got or got[(target.external_id,)]["refunds"] == []  # not posted yet
    mark = clock.now()
    clock.advance(48 * 3600)
    ch2, _ = make(sim, clock)
    auto = Window(window.placed_from, clock.now(), modified_since=mark - timedelta(minutes=10))
    got = by_key(drain(ch2.iter_orders(auto))[0])
    want = {o.external_id: o for o in sim.truth()[0]}[target.external_id]
    assert want.status is OrderStatus.PARTIALLY_REFUNDED and want.refunded == 20
    assert got[(target.external_id,)] == to_json(want)
    assert ch2.ctx.stats.by_operation.get("searchOrders") == 1
    fees = drain(ch2.iter_fees(auto))[0]
    refund_fees = [f for f in fees if f.external_id.startswith(want.refunds[0].external_id)]
    assert {f.channel_kind for f in refund_fees} == {"Commission", "RefundCommission"}
    assert ch2.ctx.stats.by_operation.get("listTransactions") <= 3  # the fees stream reused the walk


def test_cancelled_order_in_an_automatic_pull(clock: FakeClock) -> None:
    """R11: a cancellation moves lastUpdatedTime, so lastUpdatedAfter finds it."""
    sim = AmazonSimulator.create(clock=clock, seed=6, orders=120, days=20)
    clock.advance(600)
    order = next(o for o in sim.truth()[0] if o.status is OrderStatus.PAID)
    mark = clock.now()
    sim.apply_change({"action": "cancel", "order": order.external_id})
    clock.advance(600)
    ch, _ = make(sim, clock)
    got = by_key(drain(ch.iter_orders(Window(clock.now() - timedelta(days=21), clock.now(),
                                                modified_since=mark - timedelta(minutes=10))))[0])
    assert got[(order.external_id,)]["status"] == "cancelled"
    assert got[(order.external_id,)]["cancelled_at"] is not None


def test_resume_after_the_orders_page_token_expired_restarts_the_search(clock: FakeClock) -> None:
    """R14, F6: a cursor kept past the 24-hour token life resumes by reading the search again."""
    sim = AmazonSimulator.create(clock=clock, seed=8, orders=350, days=40)
    clock.advance(600)
    ch, _ = make(sim, clock)
    window = Window(clock.now() - timedelta(days=41), clock.now())
    pages = list(ch.iter_orders(window))
    first = next(i for i, p in enumerate(pages) if p.records)
    clock.advance(25 * 3600)
    resumed = drain(make(sim, clock)[0].iter_orders(window, pages[first].cursor))[0]
    full = [r for p in pages for r in p.records]
    assert_same_records([r for p in pages[: first + 1] for r in p.records] + resumed, full, "resumed orders")


def test_listing_scan_restarts_when_the_30_second_token_dies(clock: FakeClock) -> None:
    """FBA inventory page tokens live 30 s: a refused token restarts the (cheap) scan."""
    sim = AmazonSimulator.create(clock=clock, seed=1, orders=20)
    sim.inventory_page = 7
    ch, _ = make(sim, clock)
    records = []
    for i, page in enumerate(ch.iter_listings()):
        records += page.records
        if i == 1:
            clock.advance(31)
    assert_same_records(records, sim.truth()[1], "listings after a restart")
    assert ch.ctx.stats.by_operation["getInventorySummaries"] > math.ceil(len(sim.truth()[1]) / 7)


def test_listing_title_from_listings_items_where_fba_has_none(clock: FakeClock) -> None:
    """productName missing: one getListingsItem call for that SKU gives the title."""
    sim = AmazonSimulator.create(clock=clock, seed=1, orders=20)
    want = sim.truth()[1][0]
    sim.missing_titles.add(want.sku)
    ch, _ = make(sim, clock)
    got = by_key(drain(ch.iter_listings())[0])
    assert got[(want.external_id, want.sku)]["title"] == want.title
    assert ch.ctx.stats.by_operation["getListingsItem"] == 1


def test_expired_access_token_403_is_refreshed_saved_and_resent(clock: FakeClock) -> None:
    """F6: Amazon answers an expired token with 403, not 401: one refresh (saved first), one resend."""
    from makersync.plugins.simulate import Faults

    sim = AmazonSimulator.create(clock=clock, seed=1, orders=20, faults=Faults(access_token_ttl_s=300))
    ch, saved = make(sim, clock)
    drain(ch.iter_listings())
    clock.advance(400)
    assert drain(ch.iter_listings())[0]
    assert ch.auth.refreshes == 2 and saved[-1]["access_token"] == ch.credentials["access_token"]


def test_connect_names_the_shop_and_says_how_far_back_orders_go(clock: FakeClock) -> None:
    """R2: Amazon returns no orders older than two years; connect says so."""
    sim = AmazonSimulator.create(clock=clock, orders=5)
    info = make(sim, clock)[0].connect()
    assert (info.external_shop_id, info.name, info.currency) == (sim.seller_id, sim.store_name, "USD")
    assert info.reach == timedelta(days=730) and info.reachable_since is None  # from each pull, not connect


def test_connect_warns_of_the_two_year_limit_only_when_the_floor_is_older_r2(clock: FakeClock) -> None:
    """R2: warn only where the channel cannot reach back as far as the floor;
    a floor within two years gets no warning (the reach is still reported)."""
    sim = AmazonSimulator.create(clock=clock, orders=5)
    warned = {}
    for days in (366, 729, 731):
        channel = make(sim, clock)[0]
        channel.ctx.floor = clock.now() - timedelta(days=days)
        info = channel.connect()
        assert info.reach == timedelta(days=730)
        warned[days] = any("two years" in w for w in info.warnings)
    assert warned == {366: False, 729: False, 731: True}


def test_connect_refuses_bad_credentials_and_settings(clock: FakeClock) -> None:
    """R15: a refused refresh token is an AuthError; a wrong region or marketplace names the field."""
    sim = AmazonSimulator.create(clock=clock, orders=5)
    with pytest.raises(AuthError):
        make(sim, clock, refresh_token="Atzr|revoked")[0].connect()
    with pytest.raises(PermanentChannelError, match="region"):
        make(sim, clock, region="moon")[0].connect()
    with pytest.raises(PermanentChannelError, match="marketplace"):
        make(sim, clock, marketplace_ids="A1PA6795UKMFR9")[0].connect()


def test_pacer_learns_the_rate_header_but_never_from_a_429(clock: FakeClock) -> None:
    """x-amzn-RateLimit-Limit adjusts the bucket on 2xx/400/404; a 429 empties the bucket so the
    known rate decides the wait; buckets are keyed (amazon, seller, operation)."""
    registry = LimiterRegistry(clock)
    pacer = AmazonPacer(registry, "SELLER1")
    (spec,) = pacer.buckets("searchOrders")
    assert spec.key == ("amazon", "SELLER1", "searchOrders") and (spec.rate, spec.capacity) == (0.0056, 20)
    assert pacer.buckets("lwaToken") == ()
    pacer.observe("searchOrders", httpx.Response(200, headers={"x-amzn-RateLimit-Limit": "0.0167"}))
    assert registry.bucket(spec).rate == 0.0167
    pacer.observe("searchOrders", httpx.Response(429, headers={"x-amzn-RateLimit-Limit": "9"}))
    assert registry.bucket(spec).rate == 0.0167
    assert pacer.throttle_wait("searchOrders", httpx.Response(429)) == 0.0
    assert registry.bucket(spec).wait_time(1) == pytest.approx(1 / 0.0167)


def test_before_bounds_stay_two_minutes_in_the_past(clock: FakeClock) -> None:
    """A window ending now never asks Amazon for a ...Before inside the last 2 minutes (no 400)."""
    sim = AmazonSimulator.create(clock=clock, seed=9, orders=50, days=5)
    clock.advance(600)
    ch, _ = make(sim, clock)
    window = Window(clock.now() - timedelta(days=6), clock.now())
    drain(ch.iter_orders(window))
    drain(ch.iter_fees(window))
    assert ch.ctx.stats.retries == 0 and sim.throttled == 0


def test_long_backfill_is_paced_at_the_published_rate_and_fees_reuse_the_walk(clock: FakeClock) -> None:
    """P2, P4: past the burst of 20, searchOrders runs at one call per ~180 s with no 429;
    the fees stream reuses the walk made before the (long) search, 18 minutes earlier."""
    sim = AmazonSimulator.create(clock=clock, seed=12, orders=2600, days=45)
    clock.advance(600)
    ch, _ = make(sim, clock)
    now = clock.now()
    window = Window(now - timedelta(days=46), now)
    start = clock.monotonic()
    orders = drain(ch.iter_orders(window))[0]
    elapsed = clock.monotonic() - start
    ideal = (math.ceil(2600 / 100) - 20) / 0.0056
    assert ideal <= elapsed <= ideal / 0.97 + 60
    walked = ch.ctx.stats.by_operation["listTransactions"]
    fees = drain(ch.iter_fees(window))[0]
    assert ch.ctx.stats.by_operation["listTransactions"] == walked  # the window ends where the walk did
    assert sim.throttled == 0 and len(orders) == 2600
    assert_same_records(fees, [f for f in sim.truth()[2] if window.contains(f.occurred_at)], "fees")
