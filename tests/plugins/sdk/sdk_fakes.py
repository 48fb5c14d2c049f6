"""Small fakes of the three channels' rate limits and of a token API, for the
SDK tests. Each is an ``httpx.Request -> httpx.Response`` callable on the
test's FakeClock, with the channel's own signals (headers, bodies), and the
matching client-side Pacer a channel would write."""

from __future__ import annotations

import json
import math
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from makersync.plugins import (
    BucketSpec,
    FakeClock,
    LimiterRegistry,
    PacedClient,
    Pacer,
    TokenAuth,
    TokenBucket,
)


class RecordingClock(FakeClock):
    """A FakeClock that remembers each sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


@dataclass
class Allowance:
    """One allowance figure: use of the theoretical ceiling and 429s."""

    name: str
    used: float
    ceiling: float
    throttled: int

    @property
    def share(self) -> float:
        return self.used / self.ceiling

    def report(self) -> Allowance:
        print(f"\n[allowance] {self.name}: {self.used:.0f} of a ceiling of {self.ceiling:.0f} "
              f"= {self.share:.2%}; 429s: {self.throttled}")
        return self


def bucket_ceiling(capacity: float, rate: float, elapsed_s: float) -> float:
    """The most a token bucket can ever give in ``elapsed_s``: full at the start."""
    return capacity + rate * elapsed_s


def _floor(value: float) -> int:
    return max(0, math.floor(round(value, 6)))


# -- Shopify: REST leaky bucket (header) and GraphQL cost bucket (body) ---------------

class ShopifyRestFake:
    """40 requests leaking at 2/s per shop; ``X-Shopify-Shop-Api-Call-Limit: used/40``;
    429 with ``Retry-After: 2.0``."""

    def __init__(self, clock: FakeClock, capacity: float = 40, leak_per_s: float = 2.0) -> None:
        self.bucket = TokenBucket(leak_per_s, capacity, clock)
        self.requests = self.throttled = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.bucket.wait_time(1) > 0:
            self.throttled += 1
            return httpx.Response(429, json={"errors": "Exceeded 2 calls per second for api client."},
                                  headers={"Retry-After": "2.0"})
        self.bucket.take(1)
        used = math.ceil(round(self.bucket.capacity - self.bucket.tokens, 6))
        return httpx.Response(200, json={"orders": []}, headers={
            "X-Shopify-Shop-Api-Call-Limit": f"{used}/{self.bucket.capacity:g}"})


class ShopifyRestPacer(Pacer):
    """Declares half the real bucket on purpose: the header teaches the rest."""

    HEADER = "x-shopify-shop-api-call-limit"

    def __init__(self, registry: LimiterRegistry, shop: str) -> None:
        super().__init__(registry)
        self.spec = BucketSpec(("shopify", shop, "rest"), rate=2.0, capacity=20.0)

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        return (self.spec,)

    def observe(self, operation: str, response: httpx.Response) -> None:
        used, _, limit = response.headers.get(self.HEADER, "").partition("/")
        if used and limit:
            self.registry.bucket(self.spec).sync(available=float(limit) - float(used), capacity=float(limit))


class ShopifyGraphqlFake:
    """Cost-based: ``maximumAvailable`` points restoring at ``restoreRate``/s;
    a throttled query is a 200 with a ``THROTTLED`` error."""

    def __init__(self, clock: FakeClock, maximum: float = 2000.0, restore_per_s: float = 100.0,
                 query_cost: float = 202.0) -> None:
        self.bucket = TokenBucket(restore_per_s, maximum, clock)
        self.query_cost = query_cost
        self.requests = self.throttled = 0
        self.points = 0.0

    def _cost(self) -> dict[str, Any]:
        return {"requestedQueryCost": self.query_cost, "actualQueryCost": self.query_cost,
                "throttleStatus": {"maximumAvailable": self.bucket.capacity,
                                   "currentlyAvailable": _floor(self.bucket.tokens),
                                   "restoreRate": self.bucket.rate}}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.bucket.wait_time(self.query_cost) > 0:
            self.throttled += 1
            return httpx.Response(200, json={
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {"cost": self._cost()}})
        self.bucket.take(self.query_cost)
        self.points += self.query_cost
        return httpx.Response(200, json={"data": {"orders": {"nodes": []}}, "extensions": {"cost": self._cost()}})


class ShopifyGraphqlPacer(Pacer):
    """Declares the Basic plan's 1000/50; ``throttleStatus`` teaches this shop's plan."""

    def __init__(self, registry: LimiterRegistry, shop: str) -> None:
        super().__init__(registry)
        self.spec = BucketSpec(("shopify", shop, "graphql"), rate=50.0, capacity=1000.0)

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        return (self.spec,)

    @staticmethod
    def _status(response: httpx.Response) -> dict[str, Any]:
        try:
            return dict(response.json()["extensions"]["cost"]["throttleStatus"])
        except (ValueError, KeyError, TypeError):
            return {}

    def observe(self, operation: str, response: httpx.Response) -> None:
        status = self._status(response)
        if status:
            self.registry.bucket(self.spec).sync(available=float(status["currentlyAvailable"]),
                                                 capacity=float(status["maximumAvailable"]),
                                                 rate=float(status["restoreRate"]))

    def is_throttled(self, response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        try:
            errors = response.json().get("errors") or []
        except ValueError:
            return False
        return any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


# -- Etsy: per-second and per-day allowances per app key --------------------------------

class EtsyFake:
    """10 requests/s and 10,000/day per app (``x-api-key: keystring:secret``),
    with Etsy's four headers and 429 + ``retry-after``."""

    def __init__(self, clock: FakeClock, per_second: float = 10, per_day: float = 10_000) -> None:
        self.clock = clock
        self.per_second, self.per_day = per_second, per_day
        self.apps: dict[str, tuple[TokenBucket, TokenBucket]] = {}
        self.requests = self.throttled = 0
        self.by_app: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        app = request.headers["x-api-key"].partition(":")[0]
        if app not in self.apps:
            self.apps[app] = (TokenBucket(self.per_second, self.per_second, self.clock),
                              TokenBucket(self.per_day / 86_400, self.per_day, self.clock))
        second, day = self.apps[app]
        wait = max(second.wait_time(1), day.wait_time(1))
        if wait > 0:
            self.throttled += 1
            return httpx.Response(429, json={"error": "Rate limit exceeded"},
                                  headers={"retry-after": str(math.ceil(wait))})
        second.take(1)
        day.take(1)
        self.by_app[app] = self.by_app.get(app, 0) + 1
        return httpx.Response(200, json={"count": 0, "results": []}, headers={
            "x-limit-per-second": f"{self.per_second:g}", "x-remaining-this-second": str(_floor(second.tokens)),
            "x-limit-per-day": f"{self.per_day:g}", "x-remaining-today": str(_floor(day.tokens))})


class EtsyPacer(Pacer):
    """Both allowances keyed by the app key, so every shop of the app shares them."""

    def __init__(self, registry: LimiterRegistry, app_key: str) -> None:
        super().__init__(registry)
        self.second = BucketSpec(("etsy", app_key, "second"), rate=10.0, capacity=10.0)
        self.day = BucketSpec(("etsy", app_key, "day"), rate=10_000 / 86_400, capacity=10_000.0)

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        return (self.second, self.day)

    def observe(self, operation: str, response: httpx.Response) -> None:
        for spec, limit_h, left_h in ((self.second, "x-limit-per-second", "x-remaining-this-second"),
                                      (self.day, "x-limit-per-day", "x-remaining-today")):
            if left_h in response.headers:
                self.registry.bucket(spec).sync(available=float(response.headers[left_h]),
                                                capacity=float(response.headers[limit_h]), only_lower=True)


# -- Amazon SP-API: a token bucket per operation, no rate header on a 429 ----------------

AMAZON_RATES: dict[str, tuple[float, float]] = {
    "searchOrders": (0.0056, 20.0),
    "getOrderItems": (0.5, 30.0),
    "listTransactions": (0.5, 10.0),
}
AMAZON_PATHS = {
    "/orders/2026-01-01/orders": "searchOrders",
    "/orders/v0/orders/1/orderItems": "getOrderItems",
    "/finances/2024-06-19/transactions": "listTransactions",
}


class AmazonFake:
    """Per-operation buckets; ``x-amzn-RateLimit-Limit`` on 2xx only; a 429
    says ``QuotaExceeded`` and nothing about when to come back."""

    def __init__(self, clock: FakeClock, rates: dict[str, tuple[float, float]] | None = None) -> None:
        self.rates = rates or AMAZON_RATES
        self.buckets = {op: TokenBucket(rate, burst, clock) for op, (rate, burst) in self.rates.items()}
        self.requests = self.throttled = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        op = AMAZON_PATHS[request.url.path]
        bucket = self.buckets[op]
        if bucket.wait_time(1) > 0:
            self.throttled += 1
            return httpx.Response(429, json={"errors": [{
                "code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                "details": ""}]}, headers={"x-amzn-RequestId": f"req-{self.requests}"})
        bucket.take(1)
        return httpx.Response(200, json={"orders": []}, headers={
            "x-amzn-RequestId": f"req-{self.requests}", "x-amzn-RateLimit-Limit": f"{self.rates[op][0]:g}"})


class AmazonPacer(Pacer):
    """The declared default rates per operation, per selling partner."""

    def __init__(self, registry: LimiterRegistry, seller: str,
                 rates: dict[str, tuple[float, float]] | None = None) -> None:
        super().__init__(registry)
        self.seller = seller
        self.rates = rates or AMAZON_RATES

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        rate, burst = self.rates[operation]
        return (BucketSpec(("amazon", self.seller, operation), rate=rate, capacity=burst),)


# -- a token API: bearer tokens, refresh with rotation ---------------------------------

class BearerAuth(TokenAuth):
    """The smallest refreshable TokenAuth: bearer header, form POST to /oauth/token."""

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    def can_refresh(self) -> bool:
        return bool(self.credentials.get("refresh_token"))

    def fetch_tokens(self, client: PacedClient) -> dict[str, str]:
        body = client.request_json("POST", "/oauth/token", data={"refresh_token": self.credentials["refresh_token"]},
                                   operation="token", authenticated=False, paced=False)
        return {"access_token": body["access_token"], "refresh_token": body["refresh_token"],
                self.EXPIRES_AT_KEY: self.expiry_from(body["expires_in"])}


@dataclass
class TokenApi:
    """Accepts only access tokens it issued (and not revoked); rotates refresh
    tokens. ``events`` records calls in order; ``on_api_call`` may block a call
    (a barrier, to line up two threads)."""

    events: list[tuple[str, ...]] = field(default_factory=list)
    valid_access: set[str] = field(default_factory=set)
    valid_refresh: set[str] = field(default_factory=lambda: {"rt-1"})
    accept_any: bool = True
    on_api_call: Callable[[str], None] | None = None
    on_token_call: Callable[[], None] | None = None
    issued: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if self.on_token_call:
                self.on_token_call()
            form = dict(urllib.parse.parse_qsl(request.content.decode()))
            with self.lock:
                self.events.append(("token endpoint", form.get("refresh_token", "")))
                if form.get("refresh_token") not in self.valid_refresh:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                self.valid_refresh.discard(form["refresh_token"])
                self.issued += 1
                access, refresh = f"at-{self.issued}", f"rt-{self.issued}"
                self.valid_access.add(access)
                self.valid_refresh.add(refresh)
            return httpx.Response(200, content=json.dumps(
                {"access_token": access, "refresh_token": refresh, "expires_in": 3600}).encode())
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            self.events.append(("api call", token))
        if self.on_api_call:
            self.on_api_call(token)
        if not self.accept_any or token not in self.valid_access:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json={"ok": True, "token": token})
