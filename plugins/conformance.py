"""The conformance kit: one suite every channel and its simulator must pass.

A plugin developer gets the whole suite with one subclass::

    from makersync.plugins.conformance import ChannelConformance

    class TestMyChannel(ChannelConformance):
        channel_class = MyChannel
        simulator_class = MySimulator

It runs the channel against its simulator in-process on a fake clock and
checks: every page read to the end; window bounds and modified-since
honoured; the declared change detection finds a refund and a shipment that
leave the modified time alone (R5); records equal the simulator's ground
truth to the cent; resuming from every cursor gives the same records (R14);
429s, 5xx, resets, truncated bodies and expired tokens recovered without
failing; the allowance never exceeded; bad records set aside, the rest
delivered (R15).

The module is also a pytest plugin (entry point ``makersync_conformance``),
so installing makersync makes the kit importable in any test tree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from .channel import Channel, ChannelContext, Cursor
from .clock import FakeClock
from .records import FeeRecord, ListingRecord, OrderRecord, Page, SetAside, Window, to_json
from .simulate import Faults, Simulator

SIM_BASE_URL = "http://simulated.invalid"


def order_key(record: Any) -> tuple[str, ...]:
    if isinstance(record, ListingRecord):
        return (record.external_id, record.variation_external_id)
    return (record.external_id,)


def by_key(records: list[Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Records by their unique key, the last copy winning (streams may repeat)."""
    return {order_key(r): to_json(r) for r in records}


def assert_same_records(got: list[Any], want: list[Any], what: str) -> None:
    """Assert two record lists hold the same records, naming the first differences."""
    g, w = by_key(got), by_key(want)
    missing = sorted(set(w) - set(g))[:5]
    extra = sorted(set(g) - set(w))[:5]
    differing = [k for k in w if k in g and g[k] != w[k]][:3]
    details = []
    if missing:
        details.append(f"missing {len(set(w) - set(g))}, e.g. {missing}")
    if extra:
        details.append(f"unexpected {len(set(g) - set(w))}, e.g. {extra}")
    for k in differing:
        diff = {f: (g[k].get(f), w[k].get(f)) for f in w[k] if g[k].get(f) != w[k].get(f)}
        details.append(f"{k} differs (got, want): {diff}")
    assert not details, f"{what}: " + "; ".join(details)


@dataclass
class Harness:
    """A channel wired to its simulator on a fake clock."""

    clock: FakeClock
    sim: Simulator
    channel: Channel
    saved: list[dict[str, str]] = field(default_factory=list)

    def drain(self, pages: Iterator[Page[Any]], between: Callable[[], None] | None = None
              ) -> tuple[list[Any], list[SetAside], list[Cursor]]:
        records: list[Any] = []
        set_aside: list[SetAside] = []
        cursors: list[Cursor] = []
        for page in pages:
            records.extend(page.records)
            set_aside.extend(page.set_aside)
            # a cursor must survive a trip through the database as JSON
            cursors.append(json.loads(json.dumps(page.cursor)))
            if between is not None:
                between()
        return records, set_aside, cursors


class ChannelConformance:
    """Subclass with ``channel_class`` and ``simulator_class`` set; pytest
    collects the inherited tests on a subclass named ``Test...``."""

    channel_class: ClassVar[type[Channel]]
    simulator_class: ClassVar[type[Simulator]]
    sim_options: ClassVar[dict[str, Any]] = {"seed": 11, "orders": 240, "days": 45}
    start: ClassVar[datetime] = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    settle_s: ClassVar[float] = 600.0
    """Time let pass after the shop is generated (channels that refuse "before" bounds
    close to now, such as Amazon's 2-minute rule, then still see every order)."""

    # -- wiring -------------------------------------------------------------

    def make(self, faults: Faults | None = None, sim: Simulator | None = None,
             clock: FakeClock | None = None) -> Harness:
        clock = clock or FakeClock(self.start)
        if sim is None:
            sim = self.simulator_class.create(clock=clock, faults=faults, **self.sim_options)  # type: ignore[attr-defined]
            clock.advance(self.settle_s)
        saved: list[dict[str, str]] = []
        ctx = ChannelContext(
            credentials=dict(sim.credentials()),
            settings=sim.config_section(SIM_BASE_URL),
            clock=clock,
            transport=sim.transport(),
            save_credentials=saved.append,
        )
        return Harness(clock, sim, self.channel_class(ctx), saved)

    def reconnect(self, h: Harness) -> Harness:
        """A fresh channel instance over the same simulator (as after a restart)."""
        creds = h.saved[-1] if h.saved else h.channel.credentials
        ctx = ChannelContext(credentials=dict(creds), settings=h.sim.config_section(SIM_BASE_URL),
                             clock=h.clock, transport=h.sim.transport(), save_credentials=h.saved.append)
        return Harness(h.clock, h.sim, self.channel_class(ctx), h.saved)

    def full_window(self, h: Harness) -> Window:
        days = int(self.sim_options.get("days", 45)) + 400
        return Window(h.clock.now() - timedelta(days=days), h.clock.now())

    def truth_in(self, h: Harness, window: Window) -> tuple[list[OrderRecord], list[ListingRecord], list[FeeRecord]]:
        orders, listings, fees = h.sim.truth()
        return (
            [o for o in orders if window.contains(o.placed_at)],
            listings,
            [f for f in fees if window.contains(f.occurred_at)],
        )

    def pull_all(self, h: Harness, window: Window) -> tuple[list[Any], list[Any], list[Any], list[SetAside]]:
        orders, sa1, _ = h.drain(h.channel.iter_orders(window))
        listings, sa2, _ = h.drain(h.channel.iter_listings())
        fees, sa3, _ = h.drain(h.channel.iter_fees(window))
        return orders, listings, fees, sa1 + sa2 + sa3

    # -- the suite ------------------------------------------------------------

    def test_connect_names_the_shop(self) -> None:
        h = self.make()
        info = h.channel.connect()
        assert info.external_shop_id, "connect must return the shop's external id"
        assert info.name, "connect must name the shop"
        assert info.reach is None or info.reach > timedelta(0), (
            "ShopInfo.reach is how far back from each pull the credentials read (R2): positive, or None")
        assert info.reachable_since is None or info.reachable_since <= h.clock.now(), (
            "ShopInfo.reachable_since is a fixed instant in the past; a limit of the last N days is `reach`")

    def test_full_pull_equals_ground_truth(self) -> None:
        """Every page read to the end; records equal the truth to the cent."""
        h = self.make()
        window = self.full_window(h)
        orders, listings, fees, set_aside = self.pull_all(h, window)
        want_orders, want_listings, want_fees = self.truth_in(h, window)
        assert not set_aside, f"nothing should be set aside from a clean shop: {set_aside[:3]}"
        assert want_orders, "the simulated shop should have orders"
        assert_same_records(orders, want_orders, "orders")
        assert_same_records(listings, want_listings, "listings")
        assert_same_records(fees, want_fees, "fees")

    def test_window_bounds_honoured(self) -> None:
        h = self.make()
        now = h.clock.now()
        window = Window(now - timedelta(days=20), now - timedelta(days=5))
        orders, _, _ = h.drain(h.channel.iter_orders(window))
        fees, _, _ = h.drain(h.channel.iter_fees(window))
        want_orders, _, want_fees = self.truth_in(h, window)
        assert_same_records(orders, want_orders, "orders in a middle window")
        assert_same_records(fees, want_fees, "fees in a middle window")

    def test_resume_from_every_cursor_gives_same_records(self) -> None:
        """R14: a stream resumed from any page's cursor completes the same records."""
        h = self.make()
        window = self.full_window(h)
        for stream in ("orders", "listings", "fees"):
            pages = list(self._stream(h, stream, window, None))
            cursors = [json.loads(json.dumps(p.cursor)) for p in pages]
            full = [r for p in pages for r in p.records]
            picks = sorted(set(range(0, len(pages), max(1, len(pages) // 4))) | {len(pages) - 1})
            for i in picks:
                fresh = self.reconnect(h)
                before = [r for p in pages[: i + 1] for r in p.records]
                after = [r for p in self._stream(fresh, stream, window, cursors[i]) for r in p.records]
                assert_same_records(before + after, full, f"{stream} resumed after page {i + 1}/{len(pages)}")

    def _stream(self, h: Harness, stream: str, window: Window, cursor: Cursor | None) -> Iterator[Page[Any]]:
        if stream == "orders":
            return h.channel.iter_orders(window, cursor)
        if stream == "listings":
            return h.channel.iter_listings(cursor)
        return h.channel.iter_fees(window, cursor)

    def test_modified_since_returns_new_and_changed_orders(self) -> None:
        """R5, R11: an automatic pull brings new orders and changed ones, with fewer requests."""
        h = self.make()
        window = self.full_window(h)
        h.drain(h.channel.iter_orders(window))
        full_requests = self._data_requests(h)
        since = h.clock.now()
        h.clock.advance(3600)
        new = h.sim.apply_change({"action": "new_order"})
        h.clock.advance(self.settle_s)
        auto = Window(window.placed_from, h.clock.now(), modified_since=since - timedelta(minutes=10))
        before = self._data_requests(h)
        orders, _, _ = h.drain(h.channel.iter_orders(auto))
        truth = {o.external_id: o for o in self.truth_in(h, auto)[0]}
        got = by_key(orders)
        assert (new["external_id"],) in got, "a new order must reach an automatic pull"
        assert got[(new["external_id"],)] == to_json(truth[new["external_id"]])
        assert self._data_requests(h) - before <= max(full_requests, 1), \
            "an automatic pull must not cost more than a full one"

    @staticmethod
    def _data_requests(h: Harness) -> int:
        """Requests for data, leaving out token refreshes (their timing is the clock's)."""
        ops = h.channel.ctx.stats.by_operation
        return sum(n for op, n in ops.items() if "token" not in op.lower())

    def _pick_order(self, h: Harness, *, unshipped: bool) -> OrderRecord:
        detection = self.channel_class.change_detection
        now = h.clock.now()
        horizon = timedelta(days=detection.trailing_window_days or 10_000)
        for order in sorted(h.sim.truth()[0], key=lambda o: o.placed_at, reverse=True):
            if order.cancelled_at or order.refunds or now - order.placed_at > horizon:
                continue
            if unshipped and order.shipped_at is not None:
                continue
            if order.total <= 0:
                continue
            return order
        raise AssertionError("the simulated shop has no suitable order")

    def test_declared_change_detection_finds_hidden_refund_and_shipment(self) -> None:
        """R5, R11: a refund and a shipment the modified-since filter may miss still reach
        an automatic pull through the channel's declared change detection."""
        h = self.make()
        window = self.full_window(h)
        h.drain(h.channel.iter_orders(window))
        since = h.clock.now()
        h.clock.advance(600)
        refunded = self._pick_order(h, unshipped=False)
        h.sim.apply_change({"action": "refund", "order": refunded.external_id, "amount": "1.00"})
        shipped = self._pick_order(h, unshipped=True)
        h.sim.apply_change({"action": "ship", "order": shipped.external_id})
        lag_h = self.channel_class.change_detection.fee_trailing_window_hours
        h.clock.advance(max(3600.0, lag_h * 3600.0 + 600))
        auto = Window(window.placed_from, h.clock.now(), modified_since=since - timedelta(minutes=10))
        orders, _, _ = h.drain(h.channel.iter_orders(auto))
        got = by_key(orders)
        truth = {o.external_id: o for o in h.sim.truth()[0]}
        for order, what in ((refunded, "refund"), (shipped, "shipment")):
            assert (order.external_id,) in got, f"the {what} of order {order.external_id} was missed"
            assert got[(order.external_id,)] == to_json(truth[order.external_id]), f"{what} not applied"

    def test_throttling_recovered_without_failing(self) -> None:
        h = self.make(Faults(throttle_rate=0.15))
        window = self.full_window(h)
        orders, listings, fees, _ = self.pull_all(h, window)
        want = self.truth_in(h, window)
        assert h.sim.throttled > 0, "the fault knob should have throttled some requests"
        assert_same_records(orders, want[0], "orders under 429s")
        assert_same_records(listings, want[1], "listings under 429s")
        assert_same_records(fees, want[2], "fees under 429s")

    def test_server_errors_resets_and_truncation_recovered(self) -> None:
        h = self.make(Faults(error_rate=0.15, reset_rate=0.1, truncate_rate=0.1))
        window = self.full_window(h)
        orders, listings, fees, _ = self.pull_all(h, window)
        want = self.truth_in(h, window)
        assert h.sim.faults_injected > 0
        assert_same_records(orders, want[0], "orders under network faults")
        assert_same_records(listings, want[1], "listings under network faults")
        assert_same_records(fees, want[2], "fees under network faults")

    def test_expired_access_token_refreshed_and_saved(self) -> None:
        """F6: tokens that expire mid-pull are refreshed; the new ones are saved first."""
        h = self.make(Faults(access_token_ttl_s=900))
        window = self.full_window(h)

        def expire() -> None:
            h.clock.advance(1000)

        orders, _, _ = h.drain(h.channel.iter_orders(window), between=expire)
        expire()
        listings, _, _ = h.drain(h.channel.iter_listings(), between=expire)
        expire()
        fees, _, _ = h.drain(h.channel.iter_fees(window), between=expire)
        want = self.truth_in(h, window)
        assert_same_records(orders, want[0], "orders across token expiry")
        assert_same_records(listings, want[1], "listings across token expiry")
        assert_same_records(fees, [f for f in want[2]], "fees across token expiry")
        auth = h.channel.auth
        if auth is not None and auth.can_refresh():
            assert auth.refreshes >= 1, "an expired token must be refreshed"
            assert h.saved, "refreshed credentials must be saved"
            assert h.saved[-1].get("access_token") == h.channel.credentials.get("access_token")

    def test_allowance_never_exceeded_when_paced(self) -> None:
        """QUALITY P2: a paced pull draws no 429 from the channel's own limits."""
        h = self.make()
        self.pull_all(h, self.full_window(h))
        assert h.sim.throttled == 0, f"the channel exceeded its allowance {h.sim.throttled} times"

    def test_bad_records_set_aside_rest_delivered(self) -> None:
        """R15: malformed records are set aside with a reason; every other record arrives."""
        h = self.make(Faults(malformed_rate=0.05))
        window = self.full_window(h)
        orders, listings, fees, set_aside = self.pull_all(h, window)
        assert set_aside, "the fault knob should have produced malformed records"
        assert all(s.reason for s in set_aside), "every set-aside record needs its reason"
        aside = {(s.kind, s.external_id) for s in set_aside}
        want = self.truth_in(h, window)
        for got, wanted, kind in ((orders, want[0], "order"), (fees, want[2], "fee")):
            expected = [r for r in wanted if (kind, r.external_id) not in aside]
            delivered = [r for r in got if (kind, r.external_id) not in aside]
            assert_same_records(delivered, expected, f"{kind}s delivered beside the set-aside ones")
        assert len(by_key(orders)) + len(by_key(listings)) + len(by_key(fees)) > 0
