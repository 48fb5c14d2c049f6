"""Example Market: the smallest complete channel, written to be copied.

It shows each piece a real channel needs, in the order a reader meets them:
the pacer (a per-app bucket learning from ``X-RateLimit-*`` headers), the
auth (a bearer token refreshed at ``/oauth/token``, the rotated refresh token
saved before use by :class:`TokenAuth`), and the channel (one paging loop
shared by the three streams, every raw object mapped by ``mapping.py`` and
set aside on :class:`BadRecord`). It never sleeps and never retries: the
:class:`PacedClient` in ``self.http`` does both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import httpx

from makersync.plugins import (
    AuthError,
    BadRecord,
    BucketSpec,
    ChangeDetection,
    Channel,
    Clock,
    CredentialField,
    Cursor,
    FeeRecord,
    LimiterRegistry,
    ListingRecord,
    OrderRecord,
    PacedClient,
    Pacer,
    Page,
    PermanentChannelError,
    SetAside,
    ShopInfo,
    TokenAuth,
    TokenPaginator,
    Window,
    utc,
)

from . import mapping
from .simulator import BURST, RATE_PER_S, ExampleSimulator

PAGE_SIZE = 100
"""The API's largest page: fewer pages, fewer requests (P4)."""

R = TypeVar("R")


class ExamplePacer(Pacer):
    """One bucket per app (``client_id``): every store connected through the
    same app shares it, as the API counts."""

    def __init__(self, registry: LimiterRegistry, app_key: str, rate: float, burst: float) -> None:
        super().__init__(registry)
        self.spec = BucketSpec(("example", "app", app_key), rate=rate, capacity=burst)

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        return () if operation == "token" else (self.spec,)

    def observe(self, operation: str, response: httpx.Response) -> None:
        """Learn from ``X-RateLimit-Limit``/``X-RateLimit-Remaining``. Only a
        lower count is adopted: another client of the same app spent it. A
        higher one may be stale (a request of ours crossed it in flight)."""
        try:
            remaining = float(response.headers["x-ratelimit-remaining"])
            limit = float(response.headers.get("x-ratelimit-limit") or self.spec.capacity)
        except (KeyError, ValueError):
            return
        self.registry.bucket(self.spec).sync(capacity=limit, available=remaining, only_lower=True)


class ExampleAuth(TokenAuth):
    """``Authorization: Bearer <access_token>``, refreshed with the refresh
    token. The base class saves the new credentials before they are used."""

    def __init__(self, credentials: MutableMapping[str, str],
                 save: Callable[[dict[str, str]], None], clock: Clock, token_url: str) -> None:
        super().__init__(credentials, save, clock)
        self.token_url = token_url

    def headers(self) -> dict[str, str]:
        token = self.credentials.get("access_token")
        return {"authorization": f"Bearer {token}"} if token else {}

    def can_refresh(self) -> bool:
        return all(self.credentials.get(k) for k in ("client_id", "client_secret", "refresh_token"))

    def fetch_tokens(self, client: PacedClient) -> dict[str, str]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.credentials["refresh_token"],
            "client_id": self.credentials["client_id"],
            "client_secret": self.credentials["client_secret"],
        }
        try:
            body = client.request_json("POST", self.token_url, data=form, operation="token",
                                       authenticated=False, paced=False)
        except PermanentChannelError as exc:  # invalid_grant: the maker must reconnect
            raise AuthError(f"Example Market refused the refresh token: {exc}") from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError("Example Market's token endpoint answered without an access_token")
        new = {"access_token": str(body["access_token"]),
               self.EXPIRES_AT_KEY: self.expiry_from(body.get("expires_in"))}
        if body.get("refresh_token"):  # rotated: the old one is dead from now on
            new["refresh_token"] = str(body["refresh_token"])
        return new


def iso(when: datetime) -> str:
    return utc(when).isoformat().replace("+00:00", "Z")


class ExampleChannel(Channel):
    """Example Market (a made-up marketplace, served by its simulator)."""

    name = "example"
    display_name = "Example Market"
    version = "1.0"
    pulls = ("orders", "listings", "fees")
    change_detection = ChangeDetection(
        description="An order's updated_at moves on every change (payment, shipment, refund, "
                    "cancellation), so the updated_since filter alone finds every change."
    )
    credential_fields = (
        CredentialField("client_id", "The app's client id", secret=False),
        CredentialField("client_secret", "The app's client secret"),
        CredentialField("refresh_token", "The shop's refresh token (rotates on every refresh)"),
        CredentialField("access_token", "A current access token, if you have one", required=False),
    )
    default_base_url = "https://api.example-market.invalid"
    simulator_class: ClassVar[type[ExampleSimulator]] = ExampleSimulator

    def create_pacer(self) -> Pacer:
        return ExamplePacer(
            self.limiters,
            app_key=self.credentials.get("client_id", ""),
            rate=float(self.settings.get("requests_per_second", RATE_PER_S)),
            burst=float(self.settings.get("burst", BURST)),
        )

    def create_auth(self) -> TokenAuth:
        return ExampleAuth(self.credentials, self.ctx.save_credentials, self.clock,
                           token_url=str(self.settings.get("token_url") or "/oauth/token"))

    def connect(self) -> ShopInfo:
        body = self.http.get_json("/api/shop", operation="shop")
        if not isinstance(body, dict) or "id" not in body:
            raise PermanentChannelError("Example Market: /api/shop answered without a shop id")
        return ShopInfo(external_shop_id=str(body["id"]), name=str(body.get("name") or body["id"]),
                        currency=str(body.get("currency") or ""))

    def iter_orders(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[OrderRecord]]:
        params = {"created_from": iso(window.placed_from), "created_to": iso(window.placed_to)}
        if window.modified_since is not None:
            params["updated_since"] = iso(window.modified_since)
        return self._pages("/api/orders", params, cursor, "order",
                           lambda raw: [mapping.order_from_json(raw)])

    def iter_listings(self, cursor: Cursor | None = None) -> Iterator[Page[ListingRecord]]:
        return self._pages("/api/listings", {}, cursor, "listing", mapping.listings_from_json)

    def iter_fees(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[FeeRecord]]:
        params = {"from": iso(window.placed_from), "to": iso(window.placed_to)}
        return self._pages("/api/fees", params, cursor, "fee", lambda raw: [mapping.fee_from_json(raw)])

    def _pages(self, path: str, params: Mapping[str, str], cursor: Cursor | None, kind: str,
               read: Callable[[Any], list[R]]) -> Iterator[Page[R]]:
        """The one paging loop. The cursor after a page is its ``next_page_token``
        (the token carries the filters, and Example Market's tokens never
        expire) or ``done``; resuming from it reads the next page and no other."""
        if cursor and cursor.get("done"):
            return
        pager = TokenPaginator(cursor.get("page_token") if cursor else None, what=f"{self.name} {path}")
        while True:
            query = {"limit": PAGE_SIZE, "page_token": pager.token} if pager.token else {"limit": PAGE_SIZE, **params}
            body = self.http.get_json(path, params=query, operation=kind)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise PermanentChannelError(f"{self.name} {path}: the answer has no 'data' list")
            records: list[R] = []
            set_aside: list[SetAside] = []
            for raw in body["data"]:
                try:
                    records.extend(read(raw))
                except BadRecord as exc:  # R15: set this one aside, keep the rest
                    set_aside.append(SetAside.of(kind, raw, str(exc)))
            more = pager.advance(body.get("next_page_token"))
            total = body.get("total")
            yield Page(tuple(records), {"page_token": pager.token, "done": not more}, tuple(set_aside),
                       total if isinstance(total, int) else None)
            if not more:
                return
