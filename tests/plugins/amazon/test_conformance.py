"""The SDK's conformance kit on the Amazon channel and its simulator
(R5, R11, R14, R15; QUALITY P2, F5, F6)."""

from datetime import timedelta

from makersync.plugins import Window, to_json
from makersync.plugins.amazon import AmazonChannel, AmazonSimulator
from makersync.plugins.conformance import ChannelConformance, by_key


class TestAmazonConformance(ChannelConformance):
    """A shop of 1,000 orders: Amazon pages 100 orders a call, so the kit's
    default shop is read in a dozen requests, too few for its fault rates
    to inject anything, and too few to exercise paging past the bursts."""

    channel_class = AmazonChannel
    simulator_class = AmazonSimulator
    sim_options = {"seed": 11, "orders": 1000, "days": 45}

    def test_modified_since_returns_new_and_changed_orders(self) -> None:
        """R5, R11 with Amazon's costs. The kit's bound (an automatic pull costs no
        more requests than a full one) does not fit Amazon: refunds exist only in
        Finances and show up to 48 h late, so every order refunded in the trailing
        48 h must be re-read (getOrder, 0.5/s, burst 30) with its whole refund list
        (listTransactions by ORDER_ID where it predates the walk); the channel
        cannot know which of them the last pull already saw. What is bounded here:
        one searchOrders call (the 3-minute one), one walk, and at most one
        getOrder and one lookup per order refunded in the trailing window."""
        h = self.make()
        window = self.full_window(h)
        h.drain(h.channel.iter_orders(window))
        since = h.clock.now()
        h.clock.advance(3600)
        new = h.sim.apply_change({"action": "new_order"})
        h.clock.advance(self.settle_s)
        modified_since = since - timedelta(minutes=10)
        auto = Window(window.placed_from, h.clock.now(), modified_since=modified_since)
        stats = h.channel.ctx.stats
        before = dict(stats.by_operation)
        orders, _, _ = h.drain(h.channel.iter_orders(auto))
        spent = {op: n - before.get(op, 0) for op, n in stats.by_operation.items()}
        truth = {o.external_id: o for o in self.truth_in(h, auto)[0]}
        got = by_key(orders)
        assert got[(new["external_id"],)] == to_json(truth[new["external_id"]])
        walk_from = modified_since - timedelta(hours=48)
        trailing = {o.external_id for o in truth.values() if any(r.created_at >= walk_from for r in o.refunds)}
        now = h.clock.now()
        walked = sum(1 for t in h.sim.transactions() if t.posted >= walk_from and t.visible_at <= now)
        assert spent.get("searchOrders", 0) == 1
        assert spent.get("getOrder", 0) <= len(trailing)
        assert spent.get("listTransactions", 0) <= max(1, -(-walked // 100)) + len(trailing)
        for order_id in trailing:
            assert got[(order_id,)] == to_json(truth[order_id]), f"refunded order {order_id} not re-read"
