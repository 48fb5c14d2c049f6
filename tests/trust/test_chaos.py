"""Network chaos through whole pulls (QUALITY F5, R1): each channel's simulator
with connection resets, 500s, truncated JSON, 10-second stalls, forced 429
windows of 60 s opened mid-pull and a limit that drops between two pages and
comes back, behind the real engine on a real database.

Every pull must succeed and the books must equal the simulator's ground truth
after each one (orders by external id: total, refunded, status, shipped_at;
fees by external id: amount; each exactly once).
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import trust_figures
from conftest import soak
from trust_kit import TrustBooks, advance, compare_books, shop_changes

from makersync.plugins import BucketSpec, LimiterRegistry, PacedClient, Pacer
from makersync.plugins.clock import FakeClock
from makersync.plugins.simulate import Faults

CHANNELS = ("etsy", "shopify", "amazon")
PROFILES = {
    # QUALITY F5's rates: 5 % resets, 2 % 500s, 1 % truncated JSON, 1 % 10-second stalls.
    "F5": dict(reset_rate=0.05, error_rate=0.02, truncate_rate=0.01, stall_rate=0.01, stall_s=10.0),
    # Four times as bad, plus 2 % random 429s on top of the storms.
    "heavy": dict(reset_rate=0.2, error_rate=0.08, truncate_rate=0.04, stall_rate=0.04, stall_s=10.0,
                  throttle_rate=0.02),
}


def chaos_run(tmp_path: Path, channel: str, database_url: str, *, seed: int, orders: int, rounds: int,
              faults: dict[str, float], windows: int, limit_drops: int) -> dict[str, int]:
    """Initial pull, then ``rounds`` of (shop changes, an hour later an automatic
    pull), then a manual pull; books checked against the truth after every pull."""
    rng = random.Random(seed)
    books = TrustBooks(tmp_path, database_url)
    try:
        sim = books.add_sim(channel, seed=seed, orders=orders, days=60, faults=Faults(seed=seed, **faults))
        books.start()
        handler = books.handlers[channel]
        drops: list[tuple[int, float]] = []
        pages_at_drop = sorted(rng.sample(range(2, 40), limit_drops)) if limit_drops else []
        for page in pages_at_drop:
            drops.append((page, rng.choice((0.5, 0.25, 0.1))))
            drops.append((page + rng.randint(2, 6), 1.0))
        schedule = dict(drops)

        def between_pages(committed: int) -> None:
            if committed in schedule:
                handler.set_limit(schedule[committed])

        books.after_each_page(between_pages)

        def storms(first: int, last: int) -> None:
            for n in sorted(rng.sample(range(first, max(last, first + windows + 1)), windows)):
                handler.at(n - handler.requests if n > handler.requests else 1, handler.open_throttle_window)

        account = books.account()
        store = books.connect(account, channel)
        storms(2, 30)
        states = books.run_pulls()
        compared = compare_books(books, account, sim)
        for _ in range(rounds):
            shop_changes(sim, rng, 12)
            advance(books, 1)
            books.automatic_pull(store)
            if windows:
                handler.at(rng.randint(1, 4), handler.open_throttle_window)
            states += books.run_pulls()
            compared += compare_books(books, account, sim)
        today = books.clock.now().date()
        books.manual_pull(store, (today - timedelta(days=20)).isoformat(), today.isoformat())
        states += books.run_pulls()
        compared += compare_books(books, account, sim)
        failed = [p.error for p in books.pulls_of(store) if p.state != "succeeded"]
        assert states == ["succeeded"] * len(states) and not failed, failed
        return {
            "pulls_run": len(states),
            "records_compared": compared,
            "faults_injected": sim.faults_injected + handler.limit_changes + handler.windows_opened,
            "requests": handler.requests,
            "answered_429": handler.throttled,
            "stalls": handler.stalls,
            "throttle_windows": handler.windows_opened,
            "limit_changes": handler.limit_changes,
        }
    finally:
        books.close()


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("channel", CHANNELS)
def test_f5_r1_network_chaos_whole_pulls_books_equal_truth(tmp_path: Path, channel: str, profile: str) -> None:
    heavy = profile == "heavy"
    figures = chaos_run(tmp_path, channel, "", seed=soak(21, 97) + heavy, orders=soak(400, 5000),
                        rounds=soak(1 if heavy else 3, 24), faults=PROFILES[profile], windows=2, limit_drops=2)
    trust_figures.add("chaos F5/R1 (network)", **figures)
    trust_figures.add(f"chaos F5/R1 {channel}", **figures)


@pytest.mark.postgres
def test_f5_r1_network_chaos_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The same chaos with the books, checkpoints and leases on PostgreSQL."""
    figures = chaos_run(tmp_path, "shopify", pg_url, seed=33, orders=300, rounds=2, faults=PROFILES["F5"],
                        windows=2, limit_drops=1)
    trust_figures.add("chaos F5/R1 (network)", **figures)


def test_r1_storm_on_a_fast_operation_is_waited_out_not_failed() -> None:
    """R1: a 60-second storm of 429s without Retry-After on an operation whose
    bucket refills in half a second (Amazon's getInventorySummaries, 2/s) used
    to fail the pull after 61 quick retries (found by the suite above); the
    client now backs off harder after three refusals and waits it out in a
    handful of requests."""
    clock = FakeClock()
    storm_ends = clock.monotonic() + 60.0
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.monotonic())
        if clock.monotonic() < storm_ends:
            return httpx.Response(429, json={"errors": [{"code": "QuotaExceeded"}]})
        return httpx.Response(200, json={"ok": True})

    class FastOperation(Pacer):
        spec = BucketSpec(("sim", "fast"), rate=2.0, capacity=2.0)

        def buckets(self, operation: str) -> tuple[BucketSpec, ...]:
            return (self.spec,)

        def throttle_wait(self, operation: str, response: httpx.Response) -> float | None:
            self.registry.bucket(self.spec).sync(available=0.0)  # as AmazonPacer does
            return 0.0

    client = PacedClient(transport=httpx.MockTransport(handler), clock=clock,
                         pacer=FastOperation(LimiterRegistry(clock)))
    assert client.get_json("https://sim.test/x") == {"ok": True}
    assert client.stats.throttled < 20, client.stats.throttled
    trust_figures.add("chaos F5/R1 (network)", faults_injected=client.stats.throttled)


def test_r2_etsy_daily_quota_running_out_mid_pull_is_waited_for_and_said(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """R2: the app's day of Etsy calls runs low (three left, other shops of the
    app spent the rest) at the fourth request of a pull, and out three calls
    later, by the pull's own calls. The pull waits for the allowance to come back, says so on the pull
    while it waits (``waiting_reason``), spends no call while none remain
    (not one 429), and ends with the books equal to the truth."""
    from makersync.daemon.store import pullstate

    reasons: list[str] = []
    real = pullstate.set_waiting_reason

    def record(db: object, pull_id: int, owner: str, token: int, reason: str) -> bool:
        reasons.append(reason)
        return real(db, pull_id, owner, token, reason)  # type: ignore[arg-type]

    monkeypatch.setattr(pullstate, "set_waiting_reason", record)
    books = TrustBooks(tmp_path)
    try:
        sim = books.add_sim("etsy", seed=31, orders=500, days=40)
        books.start()
        handler = books.handlers["etsy"]
        account = books.account()
        store = books.connect(account, "etsy")
        handler.at(4, lambda: sim.spend_today(left=3))  # type: ignore[attr-defined]
        started = books.clock.monotonic()
        assert books.run_pulls() == ["succeeded"], [p.error for p in books.pulls_of(store)]
        waited = books.clock.monotonic() - started
        assert handler.statuses[429] == 0, "a call was spent while the day's allowance was gone"
        assert any("waiting for the channel's allowance" in r for r in reasons) and reasons[-1] == ""
        assert waited > 60, waited
        compared = compare_books(books, account, sim)
        trust_figures.add("chaos F5/R1 (network)", pulls_run=1, records_compared=compared,
                          quota_waits_shown=sum(1 for r in reasons if r))
    finally:
        books.close()
