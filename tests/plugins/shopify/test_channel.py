"""The Shopify channel end to end through its simulator: every query valid
against the real schema, full pulls equal to the truth, the bulk path equal
to the paged path, throttling waited out, R2's 60-day limit, auth."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, parse, validate

from makersync.plugins import AuthError, LimiterRegistry, PermanentChannelError, Window, to_json
from makersync.plugins.conformance import assert_same_records
from makersync.plugins.shopify import queries
from makersync.plugins.shopify.pacing import ShopifyPacer
from makersync.plugins.simshop import SimLine

from .conftest import Rig

MakeRig = Callable[..., Rig]


def drain(pages: Any) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    records, aside, cursors = [], [], []
    for page in pages:
        records.extend(page.records)
        aside.extend(page.set_aside)
        cursors.append(json.loads(json.dumps(page.cursor)))
    return records, aside, cursors


def pull_all(rig: Rig, window: Window) -> tuple[list[Any], list[Any], list[Any]]:
    orders, a1, _ = drain(rig.channel.iter_orders(window))
    listings, a2, _ = drain(rig.channel.iter_listings())
    fees, a3, _ = drain(rig.channel.iter_fees(window))
    assert not (a1 + a2 + a3), f"nothing should be set aside: {(a1 + a2 + a3)[:2]}"
    return orders, listings, fees


def assert_truth(rig: Rig, window: Window, orders: list[Any], listings: list[Any], fees: list[Any]) -> None:
    want_orders, want_listings, want_fees = rig.sim.truth()
    assert_same_records(orders, [o for o in want_orders if window.contains(o.placed_at)], "orders")
    assert_same_records(listings, want_listings, "listings")
    assert_same_records(fees, [f for f in want_fees if window.contains(f.occurred_at)], "fees")


def enlarge(rig: Rig, extra_lines: int, refunds: list[str]) -> str:
    """Give one recent order many lines and refunds, so nested lists overflow."""
    order = next(o for o in reversed(rig.sim.shop.orders) if o.paid and not o.refunds and not o.cancelled_at)
    base = order.lines[0]
    for _ in range(extra_lines):
        order.lines.append(SimLine(rig.sim.shop.next_id(), base.listing_id, base.variation_id, base.sku,
                                   base.title, 1, base.unit_price))
    for amount in refunds:
        rig.clock.advance(60)
        rig.sim.apply_change({"action": "refund", "order": str(order.order_id), **({"amount": amount} if amount else {})})
    return str(order.order_id)


def test_every_query_sent_is_valid_against_full_2022_07_schema(make_rig: MakeRig, full_schema: GraphQLSchema) -> None:
    """Every document the channel sends (paged, overflow follow-ups, bulk and its inner
    query) validates against the FULL real schema, not only the simulator's subset."""
    rig = make_rig()
    enlarge(rig, 9, ["1.00", "1.00", "1.00"])
    enlarge(rig, 12, [""])
    rig.channel.connect()
    window = rig.window()
    pull_all(rig, window)
    drain(rig.reconnect(bulk_threshold_orders=0).iter_orders(window))
    bodies = rig.graphql_bodies()
    operations = {parse(b["query"]).definitions[0].name.value for b in bodies}  # type: ignore[union-attr]
    assert {"MakersyncShop", "MakersyncOrders", "MakersyncOrderLines", "MakersyncOrderList",
            "MakersyncRefundLines", "MakersyncRefundLinesPage", "MakersyncVariants", "MakersyncFees",
            "MakersyncBulkRun", "MakersyncBulkStatus"} <= operations
    documents = [b["query"] for b in bodies] + [b["variables"]["query"] for b in bodies
                                                 if "bulkOperationRunQuery" in b["query"]]
    for query in set(documents):
        errors = validate(full_schema, parse(query))
        assert not errors, f"{query[:60]}...: {[e.message for e in errors]}"


def test_full_pull_equals_truth_with_overflowing_nested_lists(make_rig: MakeRig) -> None:
    """R11: line items beyond the first page, many refunds and returned lines all arrive."""
    rig = make_rig()
    many_refunds = enlarge(rig, 9, ["1.00", "2.00", "3.00"])
    returned = enlarge(rig, 12, [""])
    window = rig.window()
    orders, listings, fees = pull_all(rig, window)
    assert_truth(rig, window, orders, listings, fees)
    got = {o.external_id: o for o in orders}
    assert len(got[many_refunds].lines) >= 10 and len(got[many_refunds].refunds) == 3
    assert got[returned].refunded == got[returned].total


def test_bulk_path_equals_paged_path_and_truth(make_rig: MakeRig) -> None:
    """A forced bulk operation (threshold 0) yields the same records as paging."""
    rig = make_rig()
    enlarge(rig, 12, [""])
    window = rig.window()
    paged, _, _ = drain(rig.channel.iter_orders(window))
    bulk_channel = rig.reconnect(bulk_threshold_orders=0)
    bulked, aside, cursors = drain(bulk_channel.iter_orders(window))
    assert not aside
    assert any(c.get("op") for c in cursors), "the operation id goes into a cursor"
    assert bulk_channel.ctx.stats.by_operation.get("bulk_download") == 1
    assert {o.external_id: to_json(o) for o in bulked} == {o.external_id: to_json(o) for o in paged}
    assert_same_records(bulked, [o for o in rig.sim.truth()[0] if window.contains(o.placed_at)], "bulk orders")


def test_bulk_restart_picks_up_the_running_operation(make_rig: MakeRig) -> None:
    """R14: a pull killed while Shopify runs the bulk query resumes the same operation."""
    rig = make_rig({"bulk_threshold_orders": 0})
    window = rig.window()
    pages = rig.channel.iter_orders(window)
    first = next(pages)
    second = next(pages)  # the empty page whose cursor names the operation
    assert second.records == () and second.cursor["op"].startswith("gid://shopify/BulkOperation/")
    resumed, _, _ = drain(rig.reconnect(bulk_threshold_orders=0).iter_orders(window, second.cursor))
    runs = [b for b in rig.graphql_bodies() if "bulkOperationRunQuery" in b["query"]]
    assert len(runs) == 1, "no second operation after a restart"
    assert_same_records(list(first.records) + resumed,
                        [o for o in rig.sim.truth()[0] if window.contains(o.placed_at)], "resumed bulk")


def test_throttling_waited_out_when_the_limit_drops_mid_pull(make_rig: MakeRig) -> None:
    """A limit that drops to 30 % mid-pull: THROTTLED answers (HTTP 200) are waits, never
    failures; the pacer learns the new bucket and sizes pages to it."""
    rig = make_rig()
    window = rig.window()
    pages = rig.channel.iter_orders(window)
    orders = list(next(pages).records)
    rig.sim.faults.limit_scale = 0.3
    rig.sim.bucket.tokens = 0
    orders += [r for p in pages for r in p.records]
    assert rig.channel.ctx.stats.throttled >= 1 and rig.sim.throttled >= 1
    assert rig.channel.budget() == pytest.approx(600)
    listings, _, _ = drain(rig.channel.iter_listings())
    fees, _, _ = drain(rig.channel.iter_fees(window))
    assert_truth(rig, window, orders, listings, fees)


def test_forced_throttle_window_recovered(make_rig: MakeRig) -> None:
    rig = make_rig()
    now = rig.clock.monotonic()
    rig.sim.faults.throttle_windows = [(now, now + 60)]
    window = rig.window()
    orders, listings, fees = pull_all(rig, window)
    assert rig.sim.throttled > 0
    assert_truth(rig, window, orders, listings, fees)


def test_paced_full_pull_never_throttled_and_pages_are_full_p4(make_rig: MakeRig) -> None:
    """P2/P4: no THROTTLED answer; order pages = ceil(orders / largest affordable page)."""
    rig = make_rig(orders=400)
    window = rig.window()
    orders, _, _ = pull_all(rig, window)
    per_page = queries.fit_first(queries.orders_query, queries.MAX_QUERY_COST)
    stats = rig.channel.ctx.stats.by_operation
    assert rig.sim.throttled == 0
    assert stats["graphql_orders"] == math.ceil(len(orders) / per_page)
    assert stats["graphql_variants"] == 1
    assert stats["graphql_fees"] == math.ceil(len(orders) / queries.fit_first(queries.fees_query, 1000))


def test_unchanged_shop_costs_one_request_per_stream_p4(make_rig: MakeRig) -> None:
    rig = make_rig()
    window = rig.window()
    pull_all(rig, window)
    before = dict(rig.channel.ctx.stats.by_operation)
    rig.clock.advance(3600)
    auto = Window(window.placed_from, rig.clock.now(), modified_since=rig.clock.now() - timedelta(minutes=70))
    assert drain(rig.channel.iter_orders(auto))[0] == []
    assert drain(rig.channel.iter_fees(auto))[0] == []
    after = rig.channel.ctx.stats.by_operation
    assert after["graphql_orders"] - before["graphql_orders"] == 1
    assert after["graphql_fees"] - before["graphql_fees"] == 1


def test_without_read_all_orders_connect_warns_and_no_older_order_returned_r2(make_rig: MakeRig) -> None:
    """R2: the store says how far back it reaches; pulls never return older orders."""
    rig = make_rig(days=120, grant_all_orders=False)
    info = rig.channel.connect()
    horizon = rig.clock.now() - timedelta(days=60)
    assert any("read_all_orders" in w for w in info.warnings)
    assert info.reach == timedelta(days=60) and info.reachable_since is None  # rolling, not fixed (R2)
    assert rig.channel.max_lookback_days == 0
    window = rig.window()
    orders, listings, fees = pull_all(rig, window)
    assert orders and min(o.placed_at for o in orders) >= horizon
    assert_truth(rig, window, orders, listings, fees)
    assert len(rig.sim.truth()[0]) < len(rig.sim.shop.orders)


def test_read_all_orders_warning_only_when_the_floor_is_older_than_60_days_r2(make_rig: MakeRig) -> None:
    """R2: without read_all_orders Shopify shows 60 days; a floor within them
    (a trial account's 30-day lookback) gets no warning, an older floor does."""
    rig = make_rig(days=120, grant_all_orders=False)
    warned = {}
    for days in (30, 61):
        rig.channel.ctx.floor = rig.clock.now() - timedelta(days=days)
        info = rig.channel.connect()
        assert info.reach == timedelta(days=60)
        warned[days] = any("read_all_orders" in w for w in info.warnings)
    assert warned == {30: False, 61: True}


def test_full_pull_across_dst_change_equals_truth(make_rig: MakeRig) -> None:
    """A New York shop whose orders straddle 2026-03-08 (-05:00 then -04:00)."""
    rig = make_rig(start=datetime(2026, 3, 25, 12, tzinfo=UTC), days=40)
    window = rig.window(60)
    orders, listings, fees = pull_all(rig, window)
    assert_truth(rig, window, orders, listings, fees)
    assert min(o.placed_at for o in orders) < datetime(2026, 3, 8, 7, tzinfo=UTC) < max(o.placed_at for o in orders)


def test_connect_names_shop_and_scopes(make_rig: MakeRig) -> None:
    rig = make_rig()
    info = rig.channel.connect()
    assert (info.external_shop_id, info.name, info.currency) == (str(rig.sim.shop_id), "Maker Sim Studio", "USD")
    assert info.warnings == () and info.reachable_since is None and info.reach is None


def test_connect_without_read_orders_refused(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.sim.scopes.remove("read_orders")
    with pytest.raises(PermanentChannelError, match="read_orders"):
        rig.channel.connect()


def test_bad_shop_domain_refused_naming_the_field_r15(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.channel.credentials["shop_domain"] = "maker.example.com"
    with pytest.raises(PermanentChannelError, match="shop_domain"):
        rig.channel.connect()


def test_refused_token_without_refresh_raises_auth_error(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.saved.append({"shop_domain": rig.sim.shop_domain, "access_token": "shpat_revoked"})
    with pytest.raises(AuthError):
        rig.reconnect().connect()


def test_rotated_refresh_token_saved_before_use_f6(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.sim.faults.access_token_ttl_s = 900
    rig.clock.advance(1000)
    rig.channel.connect()
    assert rig.saved and rig.saved[-1]["refresh_token"] == rig.sim.refresh_token
    assert rig.saved[-1]["access_token"] == rig.sim.access_token
    old = rig.saved[-1]["refresh_token"]
    rig.clock.advance(1000)
    rig.reconnect().connect()
    assert rig.saved[-1]["refresh_token"] != old


def test_pacer_treats_throttled_200_and_429_as_waits(make_rig: MakeRig) -> None:
    rig = make_rig()
    pacer = ShopifyPacer(LimiterRegistry(rig.clock), "maker-sim.myshopify.com")
    body = json.loads((Path(__file__).with_name("samples") / "throttled.json").read_text())
    throttled = httpx.Response(200, json=body)
    assert pacer.is_throttled(throttled)
    pacer.observe("graphql_orders", throttled)
    bucket = pacer.registry.bucket(pacer.graphql)
    assert (bucket.capacity, bucket.rate, bucket.tokens) == (2000.0, 100.0, 484.0)
    assert pacer.throttle_wait("graphql_orders", throttled) == pytest.approx(5.0 + 0.05)
    too_many = httpx.Response(429, headers={"Retry-After": "2.0"}, json={"errors": "Throttled"})
    assert pacer.is_throttled(too_many) and pacer.throttle_wait("graphql_orders", too_many) == 2.0
    assert not pacer.is_throttled(httpx.Response(200, json={"data": {"shop": {"id": "x"}}}))
    assert pacer.graphql.key == ("shopify", "maker-sim.myshopify.com", "graphql")
