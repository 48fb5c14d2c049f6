"""A simulator of the Example Market API over a seeded :class:`SimShop`.

The whole API (all JSON; times ISO 8601 UTC; money as decimal strings)::

    POST /oauth/token   form: grant_type=refresh_token, refresh_token, client_id, client_secret
                        -> {"access_token", "refresh_token" (rotated), "token_type": "bearer",
                            "expires_in": 3600};  400 {"error": "invalid_grant"}, 401 invalid_client
    GET  /api/shop      -> {"id", "name", "currency"}
    GET  /api/orders    ?created_from=&created_to=&updated_since=&limit=&page_token=
    GET  /api/listings  ?limit=&page_token=
    GET  /api/fees      ?from=&to= (both required) &limit=&page_token=
                        -> {"data": [...], "total": N, "next_page_token": "..." | null}

* Every ``/api`` call needs ``Authorization: Bearer <access_token>``; a missing,
  unknown or expired token is 401 ``{"error": "invalid_token", ...}``.
* ``limit`` is 1..100 (default 50). A ``page_token`` carries the filters of the
  first request (send it with ``limit`` only) and never expires. Orders are
  sorted by ``created_at`` (by ``updated_at`` with ``updated_since``), fees
  by ``created_at``, listings by id; ``created_to`` and ``to`` are exclusive.
* ``updated_at`` moves on every change to an order (ship, refund, cancel).
* Rate limit per app (client id): 5 requests a second, bursts of 20.
  Every answer carries ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``;
  over the limit: 429 ``{"error": "rate_limited"}`` with ``Retry-After`` in
  (fractional) seconds.
* Fees are signed as the balance sees them: a charge is negative.
"""

from __future__ import annotations

import base64
import json
import math
import random
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from makersync.plugins import (
    SYSTEM_CLOCK,
    Clock,
    FeeKind,
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
    TokenBucket,
)
from makersync.plugins.simshop import SimFee, SimListing, SimOrder, SimShop
from makersync.plugins.simulate import Faults, Simulator, json_response

ID_BASE = 9_000_000
RATE_PER_S = 5.0
BURST = 20.0
TOKEN_TTL_S = 3600.0
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEE_WORDS = {"advertising": "promoted_listing"}
"""SimShop's fee kinds as this API names them (the rest keep their name)."""
FEE_KINDS = {
    "transaction": FeeKind.TRANSACTION, "processing": FeeKind.PROCESSING, "listing": FeeKind.LISTING,
    "shipping_label": FeeKind.SHIPPING_LABEL, "advertising": FeeKind.ADVERTISING,
}
ERROR_WORDS = {400: "invalid_request", 401: "invalid_token", 404: "not_found", 405: "method_not_allowed",
               429: "rate_limited"}


class BadRequest(ValueError):
    """A request the API answers with 400."""


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def micros(when: datetime) -> int:
    """Exact sort key of an instant (ISO strings do not sort when fractions vary)."""
    return (when - EPOCH) // timedelta(microseconds=1)


def status_of(order: SimOrder) -> tuple[OrderStatus, str]:
    """The normalised status and the API's own word, from the shop's facts."""
    if order.cancelled_at is not None:
        return OrderStatus.CANCELLED, "cancelled"
    if order.refunded > 0 and order.refunded >= order.total:
        return OrderStatus.REFUNDED, "refunded"
    if order.refunded > 0:
        return OrderStatus.PARTIALLY_REFUNDED, "partially_refunded"
    if order.shipped_at is not None:
        return OrderStatus.SHIPPED, "shipped"
    if not order.paid:
        return OrderStatus.PENDING, "unpaid"
    return OrderStatus.PAID, "paid"


class ExampleSimulator(Simulator):
    """Example Market over a :class:`SimShop`, with the base class's faults."""

    channel = "example"

    @classmethod
    def create(cls, *, seed: int = 1, orders: int = 200, days: int = 60, speed: float = 1.0,
               clock: Clock = SYSTEM_CLOCK, faults: Faults | None = None, **kw: Any) -> ExampleSimulator:
        """A simulator over a fresh shop; ``kw`` goes to :class:`SimShop` (currency, sku_mode...)."""
        shop = SimShop(seed=seed, orders=orders, days=days, now=clock.now(), id_base=ID_BASE, **kw)
        return cls(shop, clock=clock, speed=speed, faults=faults)

    def __init__(self, shop: SimShop, *, clock: Clock = SYSTEM_CLOCK, speed: float = 1.0,
                 faults: Faults | None = None) -> None:
        super().__init__(shop, clock=clock, speed=speed, faults=faults)
        self._secrets = random.Random(f"example-{shop.seed}")
        self.client_id = f"example-app-{shop.seed}"
        self.client_secret = self._secret("cs")
        self.shop_id = f"shop-{shop.seed}"
        self.token_requests = 0
        self._access: dict[str, tuple[str, datetime]] = {}  # token -> (client id, expiry)
        self._refresh: dict[str, str] = {}  # refresh token -> client id
        self._buckets: dict[str, TokenBucket] = {}
        self._initial = self._issue(self.client_id)

    # -- what the daemon is given -------------------------------------------------

    def credentials(self) -> dict[str, str]:
        """The app's and shop's credentials as first issued (stable across calls)."""
        return {"client_id": self.client_id, "client_secret": self.client_secret,
                "access_token": self._initial["access_token"],
                "refresh_token": self._initial["refresh_token"],
                "access_token_expires_at": self._initial["expires_at"]}

    def config_section(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "token_url": base_url.rstrip("/") + "/oauth/token",
                "requests_per_second": RATE_PER_S * self.speed, "burst": BURST}

    # -- the API ------------------------------------------------------------------

    def route_name(self, request: httpx.Request) -> str:
        return f"{request.method} {request.url.path}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/token":
            if request.method != "POST":
                return self.error_response(405, "use POST")
            return self._token_endpoint(request)
        route = self._routes().get(path)
        if route is None:
            return self.error_response(404, f"no such endpoint {path}")
        if request.method != "GET":
            return self.error_response(405, "use GET")
        client_id = self._client_of(request)
        if isinstance(client_id, httpx.Response):
            return client_id
        bucket = self._bucket(client_id)
        wait = bucket.wait_time(1)
        if wait > 0:  # the base class counts it in self.throttled
            return self.throttle_response(wait, bucket)
        bucket.take(1)
        try:
            response = route(request.url.params)
        except BadRequest as exc:
            response = self.error_response(400, str(exc))
        response.headers.update(self._limit_headers(bucket))
        return response

    def _routes(self) -> dict[str, Callable[[Mapping[str, str]], httpx.Response]]:
        return {"/api/shop": self._shop, "/api/orders": self._orders,
                "/api/listings": self._listings, "/api/fees": self._fees}

    def error_response(self, status: int, message: str) -> httpx.Response:
        word = ERROR_WORDS.get(status, "server_error" if status >= 500 else "error")
        return json_response(status, {"error": word, "error_description": message})

    def throttle_response(self, retry_after_s: float = 1.0, bucket: TokenBucket | None = None
                          ) -> httpx.Response:
        headers = {"retry-after": f"{math.ceil(retry_after_s * 1000) / 1000:g}"}
        headers.update(self._limit_headers(bucket) if bucket else {"x-ratelimit-remaining": "0"})
        return json_response(429, {"error": "rate_limited",
                                   "error_description": "too many requests for this app"}, headers)

    # -- auth and limits --------------------------------------------------------------

    def _secret(self, prefix: str) -> str:
        return f"{prefix}_{self._secrets.getrandbits(96):024x}"

    def _issue(self, client_id: str) -> dict[str, str]:
        ttl = self.faults.access_token_ttl_s or TOKEN_TTL_S
        access, refresh = self._secret("at"), self._secret("rt")
        expires = self.clock.now() + timedelta(seconds=ttl)
        self._access[access] = (client_id, expires)
        self._refresh[refresh] = client_id
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(int(ttl)),
                "expires_at": expires.isoformat()}

    def _client_of(self, request: httpx.Request) -> str | httpx.Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return self.error_response(401, "missing bearer token")
        found = self._access.get(token)
        if found is None:
            return self.error_response(401, "unknown access token")
        client_id, expires = found
        if self.clock.now() >= expires:
            return self.error_response(401, "access token expired")
        return client_id

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        form = {k: v[0] for k, v in urllib.parse.parse_qs(request.content.decode()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_response(401, {"error": "invalid_client"})
        if form.get("grant_type") != "refresh_token":
            return json_response(400, {"error": "unsupported_grant_type"})
        refresh = form.get("refresh_token", "")
        if self._refresh.get(refresh) != self.client_id:
            return json_response(400, {"error": "invalid_grant",
                                       "error_description": "unknown or used refresh token"})
        del self._refresh[refresh]  # rotated: each refresh token works once
        issued = self._issue(self.client_id)
        return json_response(200, {"access_token": issued["access_token"],
                                   "refresh_token": issued["refresh_token"],
                                   "token_type": "bearer", "expires_in": int(issued["expires_in"])})

    def _bucket(self, client_id: str) -> TokenBucket:
        """The app's bucket, at this run's speed and the fault knob's scale."""
        bucket = self._buckets.get(client_id)
        if bucket is None:
            bucket = self._buckets[client_id] = TokenBucket(RATE_PER_S, BURST, self.clock)
        scale = self.faults.limit_scale
        bucket.sync(rate=RATE_PER_S * self.speed * scale, capacity=max(1.0, BURST * scale))
        return bucket

    def _limit_headers(self, bucket: TokenBucket) -> dict[str, str]:
        return {"x-ratelimit-limit": f"{bucket.capacity:g}",
                "x-ratelimit-remaining": str(max(0, math.floor(bucket.tokens)))}

    # -- lists ------------------------------------------------------------------

    def _shop(self, params: Mapping[str, str]) -> httpx.Response:
        return json_response(200, {"id": self.shop_id, "name": f"Example Market shop {self.shop.seed}",
                                   "currency": self.shop.currency})

    def _orders(self, params: Mapping[str, str]) -> httpx.Response:
        def select(q: Mapping[str, str]) -> list[tuple[list[int], Any]]:
            lo, hi = _time(q, "created_from"), _time(q, "created_to")
            since = _time(q, "updated_since")
            variants = self._has_variants()
            rows = []
            for o in self.shop.orders:
                if (lo and o.placed_at < lo) or (hi and o.placed_at >= hi) or (since and o.modified_at < since):
                    continue
                key = [micros(o.modified_at if since else o.placed_at), o.order_id]
                rows.append((key, lambda o=o: self._render_order(o, variants)))
            return rows
        return self._paged("orders", params, ("created_from", "created_to", "updated_since"), select)

    def _listings(self, params: Mapping[str, str]) -> httpx.Response:
        def select(q: Mapping[str, str]) -> list[tuple[list[int], Any]]:
            return [([li.listing_id], lambda li=li: self._render_listing(li)) for li in self.shop.listings]
        return self._paged("listings", params, (), select)

    def _fees(self, params: Mapping[str, str]) -> httpx.Response:
        def select(q: Mapping[str, str]) -> list[tuple[list[int], Any]]:
            lo, hi = _time(q, "from"), _time(q, "to")
            if lo is None or hi is None:
                raise BadRequest("'from' and 'to' are required")
            return [([micros(f.occurred_at), f.fee_id], lambda f=f: self._render_fee(f))
                    for f in self.shop.fees_between(lo, hi)]
        return self._paged("fees", params, ("from", "to"), select)

    def _paged(self, route: str, params: Mapping[str, str], filters: tuple[str, ...],
               select: Callable[[Mapping[str, str]], list[tuple[list[int], Any]]]) -> httpx.Response:
        """Keyset paging: the token holds the route, the filters and the last key sent."""
        limit = _limit(params)
        token = params.get("page_token")
        if token:
            query, after = _decode_token(token, route)
        else:
            query, after = {k: params[k] for k in filters if params.get(k)}, None
            for key in query:
                _time(query, key)  # 400 now, not on the next page
        rows = sorted(select(query), key=lambda row: row[0])
        total = len(rows)
        if after is not None:
            rows = [row for row in rows if row[0] > after]
        page, rest = rows[:limit], rows[limit:]
        next_token = _encode_token(route, query, page[-1][0]) if rest else None
        return json_response(200, {"data": [render() for _, render in page], "total": total,
                                   "next_page_token": next_token})

    def _has_variants(self) -> dict[int, bool]:
        return {li.listing_id: li.has_variations for li in self.shop.listings}

    # -- rendering (with the malformed-record fault) ----------------------------------

    def _render_order(self, o: SimOrder, variants: Mapping[int, bool]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": o.order_id, "number": o.number, "status": status_of(o)[1], "currency": o.currency,
            "created_at": iso(o.placed_at), "updated_at": iso(o.modified_at),
            "subtotal": str(o.subtotal), "discount": str(o.discount), "shipping": str(o.shipping),
            "tax": str(o.tax), "total": str(o.total),
            "shipped_at": iso(o.shipped_at) if o.shipped_at else None,
            "cancelled_at": iso(o.cancelled_at) if o.cancelled_at else None,
            "items": [{"id": ln.line_id, "listing_id": ln.listing_id,
                       "variant_id": ln.variation_id if variants.get(ln.listing_id) else None,
                       "sku": ln.sku, "title": ln.title, "quantity": ln.quantity,
                       "unit_price": str(ln.unit_price)} for ln in o.lines],
            "refunds": [{"id": r.refund_id, "amount": str(r.amount), "created_at": iso(r.created_at),
                         "reason": r.reason} for r in o.refunds],
        }
        if self.malformed():
            self.faults_injected += 1
            _corrupt(data, o.order_id, ("total", "created_at", "items"))
        return data

    def _render_listing(self, li: SimListing) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": li.listing_id, "title": li.title, "state": li.state, "currency": self.shop.currency,
            "updated_at": iso(li.modified_at), "has_variants": li.has_variations,
            "variants": [{"id": v.variation_id, "sku": v.sku, "option": v.option, "price": str(v.price)}
                         for v in li.variations],
        }
        if self.malformed():
            self.faults_injected += 1
            _corrupt(data, li.listing_id, ("title", "updated_at", "variants"))
        return data

    def _render_fee(self, f: SimFee) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": f.fee_id, "type": FEE_WORDS.get(f.kind, f.kind), "amount": str(Decimal(0) - f.amount),
            "currency": self.shop.currency, "created_at": iso(f.occurred_at),
            "order_id": f.order_id, "listing_id": f.listing_id, "description": f.description,
        }
        if self.malformed():
            self.faults_injected += 1
            _corrupt(data, f.fee_id, ("amount", "created_at", "amount"))
        return data

    # -- ground truth, from the shop (never through mapping.py) -------------------------

    def truth(self) -> tuple[list[OrderRecord], list[ListingRecord], list[FeeRecord]]:
        variants = self._has_variants()
        orders = []
        for o in self.shop.orders:
            status, word = status_of(o)
            orders.append(OrderRecord(
                external_id=str(o.order_id), order_number=o.number, status=status, channel_status=word,
                placed_at=o.placed_at, modified_at=o.modified_at, currency=o.currency,
                subtotal=o.subtotal, shipping=o.shipping, tax=o.tax, discount=o.discount, total=o.total,
                lines=tuple(OrderLine(str(ln.line_id), str(ln.listing_id),
                                      str(ln.variation_id) if variants.get(ln.listing_id) else "",
                                      ln.sku, ln.title, ln.quantity, ln.unit_price) for ln in o.lines),
                refunds=tuple(RefundRecord(str(r.refund_id), r.amount, r.created_at, r.reason)
                              for r in o.refunds),
                shipped_at=o.shipped_at, cancelled_at=o.cancelled_at,
            ))
        listings = [
            ListingRecord(str(li.listing_id), str(v.variation_id) if li.has_variations else "", v.sku,
                          li.title, li.state, v.price, self.shop.currency, None, li.modified_at,
                          (("variant", v.option),) if v.option else ())
            for li in self.shop.listings for v in li.variations
        ]
        fees = [
            FeeRecord(str(f.fee_id), FEE_KINDS.get(f.kind, FeeKind.OTHER), FEE_WORDS.get(f.kind, f.kind),
                      f.amount, self.shop.currency, f.occurred_at,
                      order_external_id=str(f.order_id) if f.order_id is not None else "",
                      listing_external_id=str(f.listing_id) if f.listing_id is not None else "",
                      description=f.description, channel_amount=Decimal(0) - f.amount)
            for f in self.shop.fees
        ]
        return orders, listings, fees


def _corrupt(data: dict[str, Any], record_id: int, choices: tuple[str, str, str]) -> None:
    """Break one field, as a buggy API would: gone, the wrong type, or garbled."""
    how = record_id % 3
    key = choices[how]
    if how == 0:
        del data[key]
    elif how == 1:
        data[key] = 1717236000
    else:
        data[key] = None if key == "variants" else "n/a"


def _limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit") or str(DEFAULT_LIMIT)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be 1..{MAX_LIMIT}, got {raw!r}")
    return int(raw)


def _time(params: Mapping[str, str], key: str) -> datetime | None:
    raw = params.get(key)
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{key} must be an ISO 8601 time, got {raw!r}") from None
    if when.tzinfo is None:
        raise BadRequest(f"{key} needs a time zone, got {raw!r}")
    return when


def _encode_token(route: str, query: Mapping[str, str], after: list[int]) -> str:
    blob = json.dumps({"r": route, "q": dict(query), "a": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(blob.encode()).decode().rstrip("=")


def _decode_token(token: str, route: str) -> tuple[dict[str, str], list[int]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        owner, query, after = str(data["r"]), dict(data["q"]), list(data["a"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest("invalid page_token") from None
    if owner != route:
        raise BadRequest(f"this page_token belongs to /api/{owner}")
    return query, after
