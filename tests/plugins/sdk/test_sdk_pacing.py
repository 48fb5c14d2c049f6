"""The paced client against each channel's style of limit, on a fake clock.

QUALITY P2: a long pull uses at least 97 % of the channel's theoretical
ceiling and draws no 429 when paced; R2: Etsy's daily quota shared by every
shop of the app is never overdrawn. Each test prints its figure
(``-s`` shows them)."""

from __future__ import annotations

import random

import httpx
import pytest
from sdk_fakes import (
    AMAZON_PATHS,
    AMAZON_RATES,
    Allowance,
    AmazonFake,
    AmazonPacer,
    EtsyFake,
    EtsyPacer,
    RecordingClock,
    ShopifyGraphqlFake,
    ShopifyGraphqlPacer,
    ShopifyRestFake,
    ShopifyRestPacer,
    bucket_ceiling,
)

from makersync.plugins import BucketSpec, LimiterRegistry, PacedClient, TokenBucket
from makersync.plugins.http import MAX_BACKOFF_S

MIN_SHARE = 0.97


def client_for(fake: object, clock: RecordingClock, pacer: object, **kw: object) -> PacedClient:
    return PacedClient(base_url="https://channel.test", transport=httpx.MockTransport(fake),  # type: ignore[arg-type]
                       clock=clock, pacer=pacer, **kw)  # type: ignore[arg-type]


def test_leaky_bucket_learned_from_header_uses_allowance_without_429() -> None:
    """P2 (Shopify REST): the declared capacity is half the real one; the call-limit
    header teaches the rest, and 1,000 calls run at the bucket's pace."""
    clock = RecordingClock()
    fake = ShopifyRestFake(clock)
    client = client_for(fake, clock, ShopifyRestPacer(LimiterRegistry(clock), "shop-1"))
    start = clock.monotonic()
    for _ in range(1000):
        client.get_json("/admin/api/2026-07/orders.json", operation="orders")
    elapsed = clock.monotonic() - start
    figure = Allowance("shopify rest leaky bucket", 1000, bucket_ceiling(40, 2.0, elapsed), fake.throttled).report()
    assert fake.throttled == 0
    assert figure.share >= MIN_SHARE
    assert clock.slept == pytest.approx(elapsed)


def test_cost_bucket_learned_from_throttle_status_uses_allowance_without_throttles() -> None:
    """P2 (Shopify GraphQL): query cost drawn from a points bucket whose size and
    restore rate come from ``extensions.cost.throttleStatus``, not the declaration."""
    clock = RecordingClock()
    fake = ShopifyGraphqlFake(clock)
    client = client_for(fake, clock, ShopifyGraphqlPacer(LimiterRegistry(clock), "shop-1"))
    start = clock.monotonic()
    for _ in range(400):
        client.request("POST", "/admin/api/2026-07/graphql.json", json_body={"query": "{ orders }"},
                       operation="graphql", cost=fake.query_cost)
    elapsed = clock.monotonic() - start
    figure = Allowance("shopify graphql cost bucket (points)", fake.points,
                       bucket_ceiling(2000, 100, elapsed), fake.throttled).report()
    assert fake.throttled == 0
    assert figure.share >= MIN_SHARE


def test_cost_bucket_throttled_in_a_200_is_retried() -> None:
    """A THROTTLED error inside a 200 counts as a 429: waited out, then retried."""
    clock = RecordingClock()
    fake = ShopifyGraphqlFake(clock)
    fake.bucket.sync(available=0)
    registry = LimiterRegistry(clock)
    pacer = ShopifyGraphqlPacer(registry, "shop-1")
    client = client_for(fake, clock, pacer, rng=random.Random(3))
    body = client.request_json("POST", "/graphql.json", json_body={}, operation="graphql", cost=fake.query_cost)
    assert body["data"] == {"orders": {"nodes": []}}
    assert fake.throttled == 1
    assert client.stats.throttled == 1


def etsy_ceiling(elapsed_s: float) -> float:
    return min(bucket_ceiling(10, 10, elapsed_s), bucket_ceiling(10_000, 10_000 / 86_400, elapsed_s))


def test_per_second_and_daily_allowance_both_honoured() -> None:
    """P2, R2 (Etsy): past the daily quota the pull waits for it, no call made
    while none remains, and both allowances are used to the full."""
    clock = RecordingClock()
    fake = EtsyFake(clock)
    client = client_for(fake, clock, EtsyPacer(LimiterRegistry(clock), "app-1"),
                        headers={"x-api-key": "app-1:secret"})
    start = clock.monotonic()
    for _ in range(10_400):
        client.get_json("/v3/application/shops/1/receipts", operation="receipts")
    elapsed = clock.monotonic() - start
    figure = Allowance("etsy 10/s + 10,000/day", 10_400, etsy_ceiling(elapsed), fake.throttled).report()
    assert fake.throttled == 0
    day_floor_s = (10_400 - 10_000) / (10_000 / 86_400)
    assert elapsed >= day_floor_s - 1e-6, "past the quota a call waits for the day's refill"
    assert figure.share >= MIN_SHARE


def test_daily_allowance_shared_by_two_shops_of_one_app_key() -> None:
    """R2: two stores connected through one app draw from one daily quota via one
    LimiterRegistry; together they never overdraw it and still use it all."""
    clock = RecordingClock()
    fake = EtsyFake(clock)
    registry = LimiterRegistry(clock)
    shops = [client_for(fake, clock, EtsyPacer(registry, "app-1"), headers={"x-api-key": "app-1:secret"})
             for _ in range(2)]
    start = clock.monotonic()
    for n in range(10_400):
        shops[n % 2].get_json(f"/v3/application/shops/{n % 2}/receipts", operation="receipts")
    elapsed = clock.monotonic() - start
    figure = Allowance("etsy daily quota, 2 shops of one app", 10_400, etsy_ceiling(elapsed),
                       fake.throttled).report()
    assert fake.throttled == 0
    assert fake.by_app == {"app-1": 10_400}
    assert figure.share >= MIN_SHARE


def test_separate_registries_for_one_app_key_overdraw_the_daily_quota() -> None:
    """Why the registry matters: two shops pacing alone each believe they own the
    quota, and the channel answers 429 once the shared budget is gone."""
    clock = RecordingClock()
    fake = EtsyFake(clock, per_day=200)
    shops = [client_for(fake, clock, EtsyPacer(LimiterRegistry(clock), "app-1"),
                        headers={"x-api-key": "app-1:secret"}, rng=random.Random(5)) for _ in range(2)]
    for n in range(300):
        shops[n % 2].get_json("/v3/application/shops/1/receipts", operation="receipts")
    assert fake.throttled > 0


@pytest.mark.parametrize("operation, calls", [("searchOrders", 60), ("getOrderItems", 300),
                                              ("listTransactions", 300)])
def test_token_bucket_per_operation_uses_allowance_without_429(operation: str, calls: int) -> None:
    """P2 (Amazon SP-API): each operation has its own bucket and the channel's 429
    tells nothing, so the declared rates must be kept exactly."""
    clock = RecordingClock()
    fake = AmazonFake(clock)
    client = client_for(fake, clock, AmazonPacer(LimiterRegistry(clock), "seller-1"))
    path = next(p for p, op in AMAZON_PATHS.items() if op == operation)
    start = clock.monotonic()
    for _ in range(calls):
        client.get_json(path, operation=operation)
    elapsed = clock.monotonic() - start
    rate, burst = AMAZON_RATES[operation]
    figure = Allowance(f"amazon {operation}", calls, bucket_ceiling(burst, rate, elapsed), fake.throttled).report()
    assert fake.throttled == 0
    assert figure.share >= MIN_SHARE


def test_operations_draw_from_their_own_buckets() -> None:
    """A spent searchOrders bucket does not slow listTransactions."""
    clock = RecordingClock()
    fake = AmazonFake(clock)
    client = client_for(fake, clock, AmazonPacer(LimiterRegistry(clock), "seller-1"))
    for _ in range(20):
        client.get_json("/orders/2026-01-01/orders", operation="searchOrders")
    for _ in range(10):
        client.get_json("/finances/2024-06-19/transactions", operation="listTransactions")
    assert clock.slept == 0.0
    assert fake.throttled == 0


def test_429_without_rate_header_backs_off_with_jitter_and_recovers() -> None:
    """A client that declares too high a rate meets bare 429s (no Retry-After):
    it backs off with its pinned jitter, and every call still succeeds."""
    clock = RecordingClock()
    fake = AmazonFake(clock)
    unpaced = {"listTransactions": (1000.0, 1000.0)}  # so every sleep is a backoff
    rng_seed = 11
    client = client_for(fake, clock, AmazonPacer(LimiterRegistry(clock), "seller-1", unpaced),
                        rng=random.Random(rng_seed))
    for _ in range(20):
        client.get_json("/finances/2024-06-19/transactions", operation="listTransactions")
    assert fake.throttled > 0
    assert client.stats.throttled == fake.throttled == len(clock.sleeps)
    assert fake.requests - fake.throttled == 20
    twin = PacedClient(rng=random.Random(rng_seed))
    assert clock.sleeps[0] == pytest.approx(twin.backoff_s(1)), "the first backoff is the pinned jitter"
    assert all(0.25 <= s <= MAX_BACKOFF_S for s in clock.sleeps)


def test_bucket_sync_only_lower_keeps_own_count_when_header_is_higher() -> None:
    """A count read from a response may predate requests in flight: with
    ``only_lower`` a higher count is ignored, a lower one adopted."""
    clock = RecordingClock()
    bucket = LimiterRegistry(clock).bucket(BucketSpec(("k",), rate=1.0, capacity=10.0))
    bucket.take(6)
    bucket.sync(available=9, only_lower=True)
    assert bucket.tokens == pytest.approx(4)
    bucket.sync(available=2, only_lower=True)
    assert bucket.tokens == pytest.approx(2)
    bucket.sync(available=9)
    assert bucket.tokens == pytest.approx(9)


def test_registry_bucket_waits_for_the_scarcest_of_several() -> None:
    """acquire takes from every bucket at once and waits for the one that is short."""
    clock = RecordingClock()
    registry = LimiterRegistry(clock)
    fast = BucketSpec(("fast",), rate=10.0, capacity=10.0)
    slow = BucketSpec(("slow",), rate=0.5, capacity=1.0)
    registry.acquire([fast, slow])
    waited = registry.acquire([fast, slow])
    assert waited == pytest.approx(2.0)
    snapshot = registry.snapshot()
    assert snapshot["fast"]["available"] == pytest.approx(9.0)
    assert snapshot["slow"]["available"] == pytest.approx(0.0)


def test_bucket_sync_to_smaller_capacity_drops_tokens_it_cannot_hold() -> None:
    bucket = TokenBucket(rate=1.0, capacity=40.0, clock=RecordingClock())
    bucket.sync(capacity=20.0)
    assert bucket.tokens == 20.0
    assert bucket.wait_time(20) == 0 and bucket.wait_time(21) == 0  # a cost above capacity waits for a full bucket
