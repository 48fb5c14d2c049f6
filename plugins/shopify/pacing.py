"""How the Shopify channel authenticates and paces its requests.

GraphQL is limited by calculated query cost per app x shop: every response
carries ``extensions.cost.throttleStatus`` (``maximumAvailable``,
``currentlyAvailable``, ``restoreRate``), which the pacer copies into the
bucket ``("shopify", shop_domain, "graphql")`` so the next query waits for
its requested cost to be restored instead of being THROTTLED. A throttled
answer is a wait, never a failure: HTTP 200 with
``errors[].extensions.code == "THROTTLED"``, or a 429.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from makersync.plugins import (
    AuthError,
    BucketSpec,
    LimiterRegistry,
    PacedClient,
    Pacer,
    PermanentChannelError,
    TokenAuth,
    parse_retry_after,
)

DEFAULT_RESTORE_RATE = 100.0
DEFAULT_BUCKET_SIZE = 2000.0
REST_LEAK_RATE = 2.0
REST_BUCKET_SIZE = 40.0
THROTTLE_MARGIN_S = 0.05


def _body(response: httpx.Response) -> dict[str, Any] | None:
    if b'"extensions"' not in response.content and b"THROTTLED" not in response.content:
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _is_throttled_body(body: dict[str, Any] | None) -> bool:
    errors = body.get("errors") if body else None
    if not isinstance(errors, list):
        return False
    return any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


def _cost(body: dict[str, Any] | None) -> dict[str, Any]:
    ext = (body or {}).get("extensions")
    cost = ext.get("cost") if isinstance(ext, dict) else None
    return cost if isinstance(cost, dict) else {}


class ShopifyPacer(Pacer):
    """GraphQL draws its requested cost from the shop's cost bucket; REST
    (access scopes) one call from the shop's REST leaky bucket."""

    def __init__(self, registry: LimiterRegistry, shop_domain: str) -> None:
        super().__init__(registry)
        self.graphql = BucketSpec(("shopify", shop_domain, "graphql"), DEFAULT_RESTORE_RATE, DEFAULT_BUCKET_SIZE)
        self.rest = BucketSpec(("shopify", shop_domain, "rest"), REST_LEAK_RATE, REST_BUCKET_SIZE)

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        if operation.startswith("graphql"):
            return (self.graphql,)
        if operation.startswith("rest"):
            return (self.rest,)
        return ()

    def capacity(self) -> float:
        """The cost bucket's size as Shopify last reported it."""
        return self.registry.bucket(self.graphql).capacity

    def observe(self, operation: str, response: httpx.Response) -> None:
        status = _cost(_body(response)).get("throttleStatus")
        if isinstance(status, dict):
            self.registry.bucket(self.graphql).sync(
                available=_num(status.get("currentlyAvailable")),
                capacity=_num(status.get("maximumAvailable")),
                rate=_num(status.get("restoreRate")),
            )
            return
        call_limit = response.headers.get("x-shopify-shop-api-call-limit")
        if call_limit and "/" in call_limit:
            used, size = (_num(x) for x in call_limit.split("/", 1))
            if used is not None and size:
                self.registry.bucket(self.rest).sync(available=size - used, capacity=size)

    def is_throttled(self, response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        return response.status_code == 200 and _is_throttled_body(_body(response))

    def throttle_wait(self, operation: str, response: httpx.Response) -> float | None:
        """Retry-After when given; else the time to restore the missing cost;
        else None (the client backs off)."""
        wait = parse_retry_after(response, self.clock)
        if wait is not None:
            for spec in self.buckets(operation):
                self.registry.bucket(spec).block_for(wait)
            return wait
        cost = _cost(_body(response))
        status = cost.get("throttleStatus") or {}
        requested = _num(cost.get("requestedQueryCost"))
        available, rate = _num(status.get("currentlyAvailable")), _num(status.get("restoreRate"))
        if requested is not None and available is not None and rate:
            missing = requested - available
            if missing > 0:
                return missing / rate + THROTTLE_MARGIN_S
        return None


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


class ShopifyAuth(TokenAuth):
    """``X-Shopify-Access-Token``; expiring offline tokens refresh at
    ``POST /admin/oauth/access_token`` and the rotated refresh token replaces
    the old one (saved before use by the base class)."""

    def __init__(self, *args: Any, token_url: str = "/admin/oauth/access_token", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token_url = token_url

    def headers(self) -> dict[str, str]:
        return {"X-Shopify-Access-Token": self.credentials.get("access_token", "")}

    def can_refresh(self) -> bool:
        return all(self.credentials.get(k) for k in ("refresh_token", "client_id", "client_secret"))

    def fetch_tokens(self, client: PacedClient) -> dict[str, str]:
        body = {
            "client_id": self.credentials["client_id"],
            "client_secret": self.credentials["client_secret"],
            "grant_type": "refresh_token",
            "refresh_token": self.credentials["refresh_token"],
        }
        try:
            answer = client.request_json("POST", self.token_url, operation="oauth_token", json_body=body,
                                         authenticated=False, paced=False)
        except PermanentChannelError as exc:
            raise AuthError(f"Shopify refused the refresh token: {exc}") from exc
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise AuthError("Shopify's token endpoint answered without an access_token")
        new = {"access_token": str(answer["access_token"]),
               self.EXPIRES_AT_KEY: self.expiry_from(answer.get("expires_in"))}
        if answer.get("refresh_token"):
            new["refresh_token"] = str(answer["refresh_token"])
        return new
