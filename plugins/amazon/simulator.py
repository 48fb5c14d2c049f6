"""A simulated Amazon SP-API over a SimShop, speaking the real endpoints.

LWA token endpoint (``POST /auth/o2/token``), ``x-amz-access-token`` checked on
every call (403 ``Unauthorized`` bodies), ``x-amzn-RequestId`` on every
response, ``x-amzn-RateLimit-Limit`` on 2xx/400/404 only, a token bucket per
operation (published rates x ``speed`` x ``limit_scale``) answering 429
``QuotaExceeded``, the 2-minute rule on every ``...Before`` (400
``InvalidInput``), the 180-day rule of Finances (an empty answer), expiring
page tokens (orders 24 h, FBA inventory 30 s) and ``{"errors": [...]}``
bodies. What the API shows of the shop is in :mod:`.simdata`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
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
    to_json,
)
from makersync.plugins.simshop import SimShop
from makersync.plugins.simulate import Faults, Simulator, json_response

from . import simdata as sd
from . import simtruth
from .simfinance import list_transactions
from .simorders import get_order, search_orders
from .simroutes import Invalid, inventory, listings_item, operation, participations

HANDLERS = {
    "searchOrders": search_orders, "getOrder": get_order, "listTransactions": list_transactions,
    "getInventorySummaries": inventory, "getMarketplaceParticipations": participations,
    "getListingsItem": listings_item,
}

RATES = {
    "searchOrders": (0.0056, 20), "getOrder": (0.5, 30), "listTransactions": (0.5, 10),
    "getInventorySummaries": (2.0, 2), "getMarketplaceParticipations": (0.016, 15), "getListingsItem": (5.0, 10),
}
ERROR_CODES = {400: "InvalidInput", 403: "Unauthorized", 404: "NotFound", 429: "QuotaExceeded",
               500: "InternalFailure", 503: "ServiceUnavailable"}
QUOTA_MESSAGE = "You exceeded your quota for the requested resource."
BEFORE_RULE = timedelta(minutes=2)


class AmazonSimulator(Simulator):
    channel = "amazon"
    seller_id = "A3SIMMAKER7X2Q"
    store_name = "Sim Maker Studio"
    orders_token_ttl_s = 24 * 3600.0
    inventory_token_ttl_s = 30.0
    inventory_page = 50

    def __init__(self, shop: SimShop, *, clock: Clock = SYSTEM_CLOCK, speed: float = 1.0,
                 faults: Faults | None = None, client_id: str = "amzn1.application-oa2-client.sim",
                 client_secret: str = "sim-client-secret", refresh_token: str = "Atzr|sim-refresh-token") -> None:
        super().__init__(shop, clock=clock, speed=speed, faults=faults)
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.tokens: dict[str, datetime] = {}
        self.buckets: dict[str, TokenBucket] = {}
        self.missing_titles: set[str] = set()  # seller SKUs whose FBA summary lacks productName
        self._txns: list[sd.SimTxn] | None = None
        self.started_at = clock.now()
        self._malformed: dict[str, bool] = {}
        self._request_no = 0
        self.token_requests = 0

    @classmethod
    def create(cls, *, seed: int = 1, orders: int = 200, days: int = 60, speed: float = 1.0,
               clock: Clock = SYSTEM_CLOCK, faults: Faults | None = None, **kw: Any) -> AmazonSimulator:
        shop = SimShop(seed=seed, orders=orders, days=days, now=clock.now(), id_base=7_000_000)
        return cls(shop, clock=clock, speed=speed, faults=faults, **kw)

    # -- what the kit asks -------------------------------------------------------------

    def credentials(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret,
                "refresh_token": self.refresh_token, "region": "na", "marketplace_ids": sd.MARKETPLACE,
                "selling_partner_id": self.seller_id}

    def config_section(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "token_url": base_url.rstrip("/") + "/auth/o2/token"}

    def transactions(self) -> list[sd.SimTxn]:
        if self._txns is None:
            self._txns = sd.build_transactions(self.shop, self.started_at)
        return self._txns

    def truth(self) -> tuple[list[OrderRecord], list[ListingRecord], list[FeeRecord]]:
        with self.lock:
            now = self.clock.now()
            txns = self.transactions()
            return (simtruth.truth_orders(self.shop, txns, now), simtruth.truth_listings(self.shop),
                    simtruth.truth_fees(txns, now, self.shop.currency))

    def apply_change(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Changes name orders by their Amazon id (or the SimShop id); a refund
        never moves the order's lastUpdatedTime (Amazon keeps refunds in Finances)."""
        change = dict(change)
        if "order" in change:
            change["order"] = self.shop_order_id(str(change["order"]))
        self._txns = None
        try:
            if change.get("action") == "edit_listing":
                return self._edit_listing(change)
            return super().apply_change(change)
        finally:
            self._txns = None

    def _edit_listing(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """A listing is named by its ASIN, seller SKU or SimShop id; the answer is
        the truth of its (first) variation as FBA inventory now shows it."""
        wanted = str(change["listing"])
        for listing in self.shop.listings:
            for var in listing.variations:
                names = {sd.asin(var.variation_id), sd.seller_sku(var.sku, var.variation_id), str(listing.listing_id)}
                if wanted in names:
                    self.shop.edit_listing(listing.listing_id, self.clock.now(), change.get("title"), change.get("sku"))
                    asin = sd.asin(listing.variations[0].variation_id)
                    for rec in simtruth.truth_listings(self.shop):
                        if rec.external_id == asin:
                            return to_json(rec)
        raise KeyError(wanted)

    def shop_order_id(self, order_id: str) -> str:
        for o in self.shop.orders:
            if sd.amazon_order_id(o.order_id) == order_id or str(o.order_id) == order_id:
                return str(o.order_id)
        raise KeyError(order_id)

    def _order_truth(self, external_id: str) -> dict[str, Any]:
        wanted = sd.amazon_order_id(int(self.shop_order_id(external_id)))
        for rec in simtruth.truth_orders(self.shop, self.transactions(), self.clock.now(), recent=True):
            if rec.external_id == wanted:
                return to_json(rec)
        raise KeyError(external_id)

    def is_malformed(self, key: str) -> bool:
        """Sticky per record, so every request shows a record the same way."""
        if key not in self._malformed:
            self._malformed[key] = self.malformed()
        return self._malformed[key]

    # -- responses in Amazon's shapes ----------------------------------------------------

    def request_id(self) -> str:
        self._request_no += 1
        return str(uuid.UUID(int=int(hashlib.md5(f"{self._request_no}".encode()).hexdigest(), 16)))

    def errors(self, status: int, message: str, details: str = "", op: str | None = None) -> httpx.Response:
        body = {"errors": [{"code": ERROR_CODES.get(status, "InvalidInput"), "message": message, "details": details}]}
        return self.respond(status, body, op)

    def respond(self, status: int, body: Any, op: str | None = None) -> httpx.Response:
        headers = {"x-amzn-RequestId": self.request_id()}
        if op in RATES and (200 <= status < 300 or status in (400, 404)):
            headers["x-amzn-RateLimit-Limit"] = f"{self.rate(op):g}"
        if status == 400:
            headers["x-amzn-ErrorType"] = "ValidationException"
        return json_response(status, body, headers)

    def error_response(self, status: int, message: str) -> httpx.Response:
        return self.errors(status, "We encountered an internal error. Please try again.", message)

    def throttle_response(self) -> httpx.Response:
        return self.errors(429, QUOTA_MESSAGE, "")

    # -- limits ----------------------------------------------------------------------

    def rate(self, op: str) -> float:
        """The applied rate, exactly as the x-amzn-RateLimit-Limit header states it."""
        return float(f"{RATES[op][0] * self.speed * self.faults.limit_scale:.6g}")

    def take(self, op: str) -> bool:
        bucket = self.buckets.get(op)
        if bucket is None:
            bucket = self.buckets[op] = TokenBucket(self.rate(op), RATES[op][1], self.clock)
        bucket.sync(rate=self.rate(op))
        if bucket.wait_time(1.0) > 1e-9:
            return False
        bucket.take(1.0)
        return True

    # -- the callable ------------------------------------------------------------------

    def route_name(self, request: httpx.Request) -> str:
        return operation(request) or request.url.path

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            return self.lwa_token(request)
        op = operation(request)
        if op is None:
            return self.errors(404, "Resource not found", f"{request.method} {request.url.path}")
        token = request.headers.get("x-amz-access-token")
        denied = "Access to requested resource is denied."
        if not token:
            return self.errors(403, denied, "Access token is missing in the request header.")
        expires = self.tokens.get(token)
        if expires is None:
            return self.errors(403, denied, "The access token you provided is revoked, malformed or invalid.")
        if self.clock.now() >= expires:
            return self.errors(403, denied, "The access token you provided has expired.")
        if not self.take(op):
            return self.throttle_response()
        try:
            status, body = HANDLERS[op](self, request)
        except Invalid as exc:
            return self.errors(400, "Invalid Input", str(exc), op)
        if status >= 400:
            return self.errors(status, str(body), "", op)
        return self.respond(status, body, op)

    def lwa_token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        headers = {"x-amzn-RequestId": self.request_id()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_response(401, {"error": "invalid_client",
                                       "error_description": "Client authentication failed"}, headers)
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return json_response(400, {"error": "invalid_grant", "error_description":
                                       "The request has an invalid grant parameter : refresh_token"}, headers)
        self.token_requests += 1
        token = "Atza|" + base64.urlsafe_b64encode(hashlib.sha256(
            f"{self.seed_text()}:{self.token_requests}".encode()).digest()).decode().rstrip("=")
        ttl = self.faults.access_token_ttl_s or 3600.0
        self.tokens[token] = self.clock.now() + timedelta(seconds=ttl)
        return json_response(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                                   "refresh_token": self.refresh_token}, headers)

    def seed_text(self) -> str:
        return str(self.shop.seed)

    # -- page tokens -----------------------------------------------------------------------

    def make_token(self, data: dict[str, Any]) -> str:
        data = {**data, "t": self.clock.now().timestamp()}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    def read_token(self, token: str, query_hash: str, ttl_s: float | None) -> dict[str, Any] | str:
        """The token's content, or why it is refused."""
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (ValueError, UnicodeDecodeError):
            return "The token is malformed."
        if not isinstance(data, dict) or data.get("q") != query_hash:
            return "The token does not belong to these request parameters."
        if ttl_s is not None and self.clock.now().timestamp() - float(data.get("t", 0)) > ttl_s:
            return "The token has expired."
        return data

