"""A simulated Shopify shop speaking the Admin API.

* ``POST /admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``:
  a real GraphQL endpoint (:mod:`.simgraph`) with calculated query cost,
  ``extensions.cost`` on every answer and ``THROTTLED`` answers (HTTP 200)
  when the bucket (2000 points, restoring 100 x speed a second) cannot pay;
* ``GET /admin/oauth/access_scopes.json`` (REST: leaky bucket of 40 at 2 a
  second, ``X-Shopify-Shop-Api-Call-Limit``, 429 + ``Retry-After``);
* ``POST /admin/oauth/access_token``: refresh of expiring offline tokens, the
  refresh token rotating;
* bulk operations whose JSONL result the simulator serves itself;
* 401 ``{"errors": "[API] Invalid API key or access token ..."}``.

``grant_all_orders=False`` withholds ``read_all_orders``: orders placed more
than 60 days ago are then invisible, as on Shopify. Refunds, fulfilments and
cancellations bump an order's ``updatedAt`` (SimShop's ``modified_at``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from graphql import DocumentNode, GraphQLError, execute_sync, get_operation_ast, parse, validate
from graphql.language import OperationType

from makersync.plugins import SYSTEM_CLOCK, Clock, TokenBucket, to_json
from makersync.plugins.simshop import SimShop
from makersync.plugins.simulate import Faults, RotatingRefreshTokens, Simulator, json_response

from . import simcost, simgraph
from .simdata import ShopData
from .simrender import Renderer
from .simtruth import truth

ID_BASE = 5_000_000_000
DEFAULT_SCOPES = ("read_orders", "read_all_orders", "read_products", "read_shopify_payments_payouts")
BAD_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REST_THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
GRAPHQL_PATH = re.compile(r"^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$")
BULK_PATH = re.compile(r"^/bulk-results/(\d+)\.jsonl$")


def _throttled_body(requested: int | None, status: dict[str, float]) -> dict[str, Any]:
    return {"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                    "throttleStatus": status}}}


@lru_cache(maxsize=128)
def _checked(query: str) -> tuple[DocumentNode, list[GraphQLError]]:
    """Parse and validate a query once: a pull sends the same few documents."""
    doc = parse(query)
    return doc, validate(simgraph.schema(), doc)


class ShopifySimulator(ShopData, RotatingRefreshTokens, Simulator):
    channel = "shopify"
    previous_refresh_token = "strict"
    """What a refresh does to the refresh token it used: ``strict``, it dies at
    once; ``until_used``, it keeps working until its replacement is first used
    (Shopify's documented behaviour since 2026-08-28, "More resilient refreshes
    for expiring offline access tokens": at most 30 days); ``window``, it keeps
    working ``previous_refresh_window_s`` after its first use (Shopify before
    that: 60 minutes). ``strict`` stays the default, the hardest case."""
    previous_refresh_window_s = 3600.0

    def __init__(self, shop: SimShop, *, clock: Clock = SYSTEM_CLOCK, speed: float = 1.0,
                 faults: Faults | None = None, tz: str = "America/New_York", grant_all_orders: bool = True,
                 bucket_size: float = 2000.0, restore_rate: float = 100.0, max_query_cost: int = 1000,
                 bulk_orders_per_s: float = 2000.0, shop_domain: str = "maker-sim.myshopify.com") -> None:
        super().__init__(shop, clock=clock, speed=speed, faults=faults)
        self.tz_name, self.tz = tz, ZoneInfo(tz)
        self.shop_domain, self.shop_name, self.shop_id = shop_domain, "Maker Sim Studio", ID_BASE - 1
        self.scopes = [s for s in DEFAULT_SCOPES if grant_all_orders or s != "read_all_orders"]
        self.bucket_size, self.restore_rate, self.max_query_cost = bucket_size, restore_rate, max_query_cost
        self.bucket = TokenBucket(restore_rate * speed, bucket_size, clock)
        self.rest_bucket = TokenBucket(2.0 * speed, 40.0, clock)
        self.bulk_orders_per_s = bulk_orders_per_s
        self.client_id, self.client_secret = f"sim-client-{shop.seed}", f"sim-secret-{shop.seed}"
        self._serial = 0
        self.access_tokens: dict[str, float] = {}
        self.refresh_token = ""
        self.kept_refresh_tokens: dict[str, float | None] = {}  # previous -> deadline (None: until replaced)
        self.access_token = self._issue_tokens()
        self.bulk_ops: dict[int, dict[str, Any]] = {}
        self.render = Renderer(self)
        self._index_key: tuple[int, ...] = ()
        self._rolled: set[int] = set()
        self._normalize_times()

    @classmethod
    def create(cls, *, seed: int = 1, orders: int = 200, days: int = 60, speed: float = 1.0,
               clock: Clock = SYSTEM_CLOCK, faults: Faults | None = None, **kw: Any) -> ShopifySimulator:
        shop = SimShop(seed=seed, orders=orders, days=days, now=clock.now(), id_base=ID_BASE)
        return cls(shop, clock=clock, speed=speed, faults=faults, **kw)

    # -- tokens ------------------------------------------------------------------

    def _issue_tokens(self) -> str:
        self._serial += 1
        token = f"shpat_sim{self.shop.seed}x{self._serial:04d}"
        self.access_tokens = {token: self.clock.monotonic()}
        self.refresh_token = f"shprt_sim{self.shop.seed}x{self._serial:04d}"
        return token

    def _token_ok(self, request: httpx.Request) -> bool:
        issued = self.access_tokens.get(request.headers.get("x-shopify-access-token", ""))
        ttl = self.faults.access_token_ttl_s
        return issued is not None and (ttl is None or self.clock.monotonic() - issued < ttl)

    def credentials(self) -> dict[str, str]:
        return {"shop_domain": self.shop_domain, "access_token": self.access_token,
                "refresh_token": self.refresh_token, "client_id": self.client_id,
                "client_secret": self.client_secret}

    def config_section(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "api_version": "2026-07"}

    def error_response(self, status: int, message: str) -> httpx.Response:
        return json_response(status, {"errors": message})

    def throttle_response(self) -> httpx.Response:
        return json_response(200, _throttled_body(None, self._throttle_status()))

    # -- HTTP ------------------------------------------------------------------

    def route_name(self, request: httpx.Request) -> str:
        if GRAPHQL_PATH.match(request.url.path):
            return "graphql"
        return "bulk-results" if BULK_PATH.match(request.url.path) else request.url.path

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/admin/oauth/access_token" and method == "POST":
            return self._token_endpoint(request)
        bulk = BULK_PATH.match(path)
        if bulk and method == "GET":
            op = self.bulk_ops.get(int(bulk.group(1)))
            if op is None or op.get("result") is None:
                return json_response(404, {"errors": "Not Found"})
            return httpx.Response(200, content=op["result"], headers={"content-type": "application/jsonl"})
        if not self._token_ok(request):
            return json_response(401, {"errors": BAD_TOKEN})
        if GRAPHQL_PATH.match(path) and method == "POST":
            return self._graphql(request)
        if path == "/admin/oauth/access_scopes.json" and method == "GET":
            return self._rest(lambda: {"access_scopes": [{"handle": s} for s in self.scopes]})
        return json_response(404, {"errors": "Not Found"})

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            body = {}
        if (body.get("client_id"), body.get("client_secret")) != (self.client_id, self.client_secret):
            return json_response(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        used = str(body.get("refresh_token") or "")
        if body.get("grant_type") != "refresh_token" or not self._refresh_accepted(used):
            return json_response(400, {"error": "invalid_grant",
                                       "error_description": "The refresh token is invalid or was already used"})
        self._keep_previous(used)
        self.access_token = self._issue_tokens()
        return json_response(200, {"access_token": self.access_token,
                                   "expires_in": int(self.faults.access_token_ttl_s or 86400),
                                   "refresh_token": self.refresh_token, "refresh_token_expires_in": 7_776_000,
                                   "scope": ",".join(self.scopes)})

    def _rest(self, answer: Any) -> httpx.Response:
        bucket = self.rest_bucket
        bucket.rate, bucket.capacity = 2.0 * self.speed * self.faults.limit_scale, 40.0 * self.faults.limit_scale
        if bucket.wait_time(1) > 0:
            return json_response(429, {"errors": REST_THROTTLED}, {"retry-after": "2.0"})
        bucket.take(1)
        used = math.ceil(bucket.capacity - bucket.tokens)
        return json_response(200, answer(), {"x-shopify-shop-api-call-limit": f"{used}/{int(bucket.capacity)}"})

    def _throttle_status(self) -> dict[str, float]:
        self.bucket.rate = self.restore_rate * self.speed * self.faults.limit_scale
        self.bucket.capacity = self.bucket_size * self.faults.limit_scale
        self.bucket.wait_time(0)  # refill to now
        return {"maximumAvailable": float(self.bucket.capacity),
                "currentlyAvailable": float(math.floor(self.bucket.tokens)),
                "restoreRate": float(self.bucket.rate)}

    def _graphql(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content)
            query, variables = str(body["query"]), dict(body.get("variables") or {})
        except (ValueError, KeyError, TypeError):
            return json_response(400, {"errors": {"query": ["Required parameter missing or invalid"]}})
        try:
            doc, problems = _checked(query)
        except GraphQLError as exc:
            return json_response(200, {"errors": [exc.formatted]})
        if problems:
            return json_response(200, {"errors": [
                {**e.formatted, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in problems]})
        op = get_operation_ast(doc, body.get("operationName"))
        if op is None:
            return json_response(200, {"errors": [{"message": "An operation name is required"}]})
        try:
            requested = simcost.query_cost(doc, op, variables)
        except (simgraph.QueryRefused, GraphQLError) as exc:
            code = getattr(exc, "code", "BAD_REQUEST")
            return json_response(200, {"errors": [{"message": str(exc), "extensions": {"code": code}}]})
        if requested > self.max_query_cost:
            return json_response(200, {
                "errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost "
                                       f"limit ({self.max_query_cost}).",
                            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                           "maxCost": self.max_query_cost}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                        "throttleStatus": self._throttle_status()}}})
        status = self._throttle_status()
        if self.bucket.tokens + 1e-6 < min(requested, self.bucket.capacity):
            self.throttled += 1
            return json_response(200, _throttled_body(requested, status))
        self.bucket.take(requested)
        base = f"{request.url.scheme}://{request.url.netloc.decode()}"
        result = execute_sync(simgraph.schema(), doc, context_value={"sim": self, "bulk": False, "base_url": base},
                         variable_values=variables, operation_name=body.get("operationName"))
        actual = requested if op.operation == OperationType.MUTATION else simcost.query_cost(
            doc, op, variables, result.data)
        self.bucket.tokens = min(self.bucket.capacity, self.bucket.tokens + requested - actual)
        answer: dict[str, Any] = {"data": result.data, "extensions": {"cost": {
            "requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self._throttle_status()}}}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        return json_response(200, answer)

    def apply_change(self, change: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            result = super().apply_change(change)
            self._normalize_times()
            self._index_key = ()
            if change.get("action") == "edit_listing":
                _orders, listings, _fees = self.truth()
                return to_json(next(r for r in listings if r.external_id == result["external_id"]))
            return self._order_truth(str(result["external_id"]))

    def truth(self) -> tuple[list[Any], list[Any], list[Any]]:
        with self.lock:
            self._index()
            return truth(self.shop, self._names, self.horizon())
