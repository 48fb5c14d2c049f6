"""A simulator of the Etsy Open API v3 over a SimShop.

It speaks what the channel reads, as Etsy serves it: ``x-api-key`` checked for
the ``keystring:shared_secret`` form (403), bearer tokens ``<user_id>.<token>``
that expire (401), a token endpoint that rotates refresh tokens, ``{count,
results}`` envelopes with ``limit`` (1..100, above is 400) and ``offset``,
epoch-second filters, receipts with embedded transactions/refunds/shipments,
ledger entries that need both ``min_created`` and ``max_created``, the four
rate headers on every success, and 429 + ``retry-after`` past the per-second
or per-day allowance (one budget per app key).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx

from makersync.plugins import (
    SYSTEM_CLOCK,
    Clock,
    FeeRecord,
    ListingRecord,
    OrderRecord,
    TokenBucket,
)
from makersync.plugins.simshop import SimOrder, SimShop
from makersync.plugins.simulate import Faults, RotatingRefreshTokens, Simulator, json_response

from .simapi import ApiError, EtsyResources
from .simdata import EtsyShopData
from .simtruth import fee_truth, listing_truth, order_truth

API = "/v3/application"
TOKEN_PATH = "/v3/public/oauth/token"
DEFAULT_QPS = 10
DEFAULT_QPD = 10_000
ACCESS_TOKEN_TTL_S = 3600.0
BAD_KEY_FORMAT = "Invalid API key: should be in the format 'keystring:shared_secret'."
BAD_KEY = "API key not found or not active, or incorrect shared secret for API key."


class EtsySimulator(EtsyResources, RotatingRefreshTokens, Simulator):
    """Etsy Open API v3 for one shop. ``clamp_limit`` answers ``limit`` > 100 by
    clamping (Etsy's 2021 behaviour) instead of 400; ``rotate_refresh_tokens``
    makes each refresh retire the old refresh token; ``ledger_max_span_s`` is
    the longest ledger window Etsy answers (0: no limit)."""

    channel = "etsy"
    clamp_limit = False
    rotate_refresh_tokens = True
    previous_refresh_token = "strict"
    """What a refresh does to the refresh token it used: ``strict``, it dies at once
    (what two third parties report of Etsy, CHANNELS.md 1.2, etsy/open-api#353 and
    #519; Etsy documents no grace); ``until_used``, it keeps working until its
    replacement is first used (Shopify since 2026-08-28); ``window``, it keeps
    working for ``previous_refresh_window_s`` after its first use. Only the last
    two let a daemon killed before saving a rotated token recover by itself (F6)."""
    previous_refresh_window_s = 3600.0
    ledger_max_span_s = 2_678_400  # etsy/open-api#346: "no more than 2678400 seconds (31 days)"

    def __init__(self, shop: SimShop, *, clock: Clock = SYSTEM_CLOCK, speed: float = 1.0,
                 faults: Faults | None = None, seed: int = 1) -> None:
        super().__init__(shop, clock=clock, speed=speed, faults=faults)
        self.shop_id = 40_000_000 + seed
        self.user_id = 500_000_000 + seed
        self.keystring = hashlib.sha1(f"etsy-key-{seed}".encode()).hexdigest()[:24]
        self.shared_secret = hashlib.sha1(f"etsy-secret-{seed}".encode()).hexdigest()[:10]
        self.data = EtsyShopData(shop, self.shop_id, self.user_id)
        self._token_n = 0
        self.tokens: dict[str, Any] = {}
        self.refresh_token = self._new_token("r")
        self.kept_refresh_tokens: dict[str, float | None] = {}  # previous -> deadline (None: until replaced)
        self.access_token = self._issue_access()
        self.token_requests = 0
        self.changes = 0
        self._query_cache: dict[Any, list[SimOrder]] = {}
        self.qps, self.qpd = DEFAULT_QPS, DEFAULT_QPD  # the app's allowance before speed and limit_scale
        self._second = TokenBucket(DEFAULT_QPS, DEFAULT_QPS, clock)
        self._day = TokenBucket(DEFAULT_QPD / 86400, DEFAULT_QPD, clock)

    @classmethod
    def create(cls, *, seed: int = 1, orders: int = 200, days: int = 60, speed: float = 1.0,
               clock: Clock = SYSTEM_CLOCK, faults: Faults | None = None, **kw: Any) -> EtsySimulator:
        shop = SimShop(seed=seed, orders=orders, days=days, now=clock.now(), id_base=3_000_000_000, **kw)
        return cls(shop, clock=clock, speed=speed, faults=faults, seed=seed)

    # -- tokens -----------------------------------------------------------------

    def _new_token(self, kind: str) -> str:
        self._token_n += 1
        digest = hashlib.sha256(f"{self.keystring}:{kind}:{self._token_n}".encode()).hexdigest()[:40]
        return f"{self.user_id}.{digest}"

    def _ttl_s(self) -> float:
        ttl = self.faults.access_token_ttl_s
        return ACCESS_TOKEN_TTL_S if ttl is None else ttl

    def _issue_access(self) -> str:
        token = self._new_token("a")
        self.tokens[token] = self.clock.now() + timedelta(seconds=self._ttl_s())
        return token

    def credentials(self) -> dict[str, str]:
        return {
            "keystring": self.keystring,
            "shared_secret": self.shared_secret,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_token_expires_at": self.tokens[self.access_token].isoformat(),
        }

    def config_section(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "token_url": f"{base_url}{TOKEN_PATH}"}

    # -- responses in Etsy's shapes ----------------------------------------------------

    def error_response(self, status: int, message: str) -> httpx.Response:
        return json_response(status, {"error": message})

    def throttle_response(self, retry_after_s: int = 1) -> httpx.Response:
        return json_response(429, {"error": "You have exceeded your quota. Please try again later."},
                             {"retry-after": str(retry_after_s), **self._rate_headers()})

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-limit-per-second": str(max(1, int(self._second.capacity))),
            "x-remaining-this-second": str(max(0, int(self._second.tokens))),
            "x-limit-per-day": str(max(1, int(self._day.capacity))),
            "x-remaining-today": str(max(0, int(self._day.tokens))),
        }

    def route_name(self, request: httpx.Request) -> str:
        return re.sub(r"/\d+", "/{id}", request.url.path)

    # -- the API ---------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        try:
            if path == TOKEN_PATH and request.method == "POST":
                return self._token(request)
            self._check_key(request)
            limited = self._take_allowance()
            if limited is not None:
                return limited
            if request.method != "GET":
                raise ApiError(405, f"{request.method} is not supported on {path}")
            if path == f"{API}/openapi-ping":
                return self._ok({"application_id": int(self.keystring[:6], 16)})
            self._check_bearer(request)
            return self._ok(self._route(path, request.url.params))
        except ApiError as exc:
            return self.error_response(exc.status, str(exc))

    def _ok(self, body: Any) -> httpx.Response:
        return json_response(200, body, self._rate_headers())

    def _check_key(self, request: httpx.Request) -> None:
        key = request.headers.get("x-api-key", "")
        if ":" not in key:
            raise ApiError(403, BAD_KEY_FORMAT)
        if key != f"{self.keystring}:{self.shared_secret}":
            raise ApiError(403, BAD_KEY)

    def _check_bearer(self, request: httpx.Request) -> None:
        value = request.headers.get("authorization", "")
        token = value[7:] if value.lower().startswith("bearer ") else ""
        if not re.fullmatch(r"\d+\.\S+", token):
            raise ApiError(401, "invalid_token")
        expires = self.tokens.get(token)
        if expires is None or self.clock.now() >= expires:
            raise ApiError(401, "invalid_token")

    def _take_allowance(self) -> httpx.Response | None:
        scale = max(self.speed * self.faults.limit_scale, 1e-6)
        qps, qpd = self.qps * scale, self.qpd * scale
        self._second.sync(capacity=qps, rate=qps)
        self._day.sync(capacity=qpd, rate=qpd / 86400)
        self._second.tokens = min(self._second.tokens, qps)
        self._day.tokens = min(self._day.tokens, qpd)
        for bucket in (self._second, self._day):  # QPS is evaluated first, then QPD
            wait = bucket.wait_time(1)
            if wait > 0:
                return self.throttle_response(max(1, math.ceil(wait)))
        self._second.take(1)
        self._day.take(1)
        return None

    def spend_today(self, left: int = 0) -> None:
        """Use up the app's daily allowance but ``left`` calls (QUALITY R2)."""
        self._day.sync(available=float(left))

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            raise ApiError(400, "unsupported_grant_type")
        if form.get("client_id") != self.keystring:
            raise ApiError(401, "invalid_client")
        used = form.get("refresh_token") or ""
        if not self._refresh_accepted(used):
            return json_response(400, {"error": "invalid_grant",
                                       "error_description": "Invalid refresh token"})
        if self.rotate_refresh_tokens:
            self._keep_previous(used)
            self.refresh_token = self._new_token("r")
        self.access_token = self._issue_access()
        return json_response(200, {"access_token": self.access_token, "token_type": "Bearer",
                                   "expires_in": int(self._ttl_s()), "refresh_token": self.refresh_token})

    def _route(self, path: str, params: httpx.QueryParams) -> Any:
        if path == f"{API}/users/me":
            return {"user_id": self.user_id, "shop_id": self.shop_id}
        match = re.fullmatch(rf"{API}/shops/(\d+)(/.*)?", path)
        if not match:
            raise ApiError(404, f"No route for {path}")
        if int(match.group(1)) != self.shop_id:
            raise ApiError(403, "The shop does not belong to the user of this access token.")
        rest = match.group(2) or ""
        if rest == "":
            return {"shop_id": self.shop_id, "user_id": self.user_id, "shop_name": f"SimStudio{self.shop_id}",
                    "title": "Handmade ceramics and textiles", "currency_code": self.shop.currency,
                    "is_vacation": False, "url": f"https://www.etsy.com/shop/SimStudio{self.shop_id}"}
        if rest == "/receipts":
            return self._receipts(params)
        if m := re.fullmatch(r"/receipts/(\d+)", rest):
            return self._rendered(self._order(m.group(1)))
        if m := re.fullmatch(r"/receipts/(\d+)/payments", rest):
            return self.data.payments(self._order(m.group(1)))
        if rest == "/listings":
            return self._listings(params)
        if rest == "/payment-account/ledger-entries":
            return self._ledger(params)
        raise ApiError(404, f"No route for {path}")

    # -- changes and truth ---------------------------------------------------------------

    def _version(self) -> tuple[int, int]:
        return self.changes, len(self.shop.orders)

    def apply_change(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Etsy moves a receipt's update_timestamp when it is placed, first
        shipped or cancelled; refunds and ship-date changes leave it alone."""
        self.changes += 1
        action = change.get("action")
        when = self.clock.now()
        if action == "new_order":
            order = self.shop.new_order(when)
            self.data.api_modified[order.order_id] = order.placed_at
            return self._order_truth(str(order.order_id))
        if action in ("ship", "cancel"):
            order = self.shop.order(change["order"])
            bumps = action == "cancel" or order.shipped_at is None
            if bumps:
                self.data.api_modified[order.order_id] = when
            else:
                self.data.modified(order)
        return super().apply_change(change)

    def truth(self) -> tuple[list[OrderRecord], list[ListingRecord], list[FeeRecord]]:
        orders = [order_truth(self.data, o) for o in self.shop.orders]
        listings = [rec for li in self.shop.listings for rec in listing_truth(self.data, li)]
        fees = [fee_truth(self.data, f) for f in self.shop.fees]
        return orders, listings, fees
