"""The Shopify channel: the GraphQL Admin API, pinned to one dated version.

* Orders: the ``orders`` connection filtered by ``created_at`` (initial and
  manual pulls, ``sortKey: CREATED_AT``) or ``updated_at`` (automatic pulls,
  ``sortKey: UPDATED_AT``). Shopify bumps ``updatedAt`` on every edit,
  refund, fulfilment and cancellation, so that filter finds every change (R5,
  R11). Nested lists that overflow their small page sizes are fetched by
  follow-up queries; refunds' line items come in batches through ``nodes``.
  A backfill whose window holds more than ``bulk_threshold_orders`` orders
  runs as a bulk operation (:mod:`.bulk`).
* Listings: the ``productVariants`` connection, one record per variant.
* Fees: ``OrderTransaction.fees`` (``TransactionFee``) of every successful
  transaction, read from the orders updated since the window starts. Checked:
  ``OrderTransaction.fees: [TransactionFee!]!`` is in the 2022-07 schema and
  in current versions, so Shopify Payments balance transactions (which need
  ``read_shopify_payments_payouts``) are not needed. A fee's time is its
  transaction's ``processedAt``; its ``type`` maps to a FeeKind, unknown
  types stay OTHER under their own name (R12); its tax is a TAX fee.
* Without ``read_all_orders`` Shopify shows 60 days of orders only: connect
  says so and no stream returns an order placed before that (R2).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from makersync.plugins import (
    AuthError,
    BadRecord,
    ChangeDetection,
    Channel,
    ChannelContext,
    CredentialField,
    Cursor,
    CursorPaginator,
    FeeRecord,
    ListingRecord,
    OrderRecord,
    Page,
    PermanentChannelError,
    SetAside,
    ShopInfo,
    TransientChannelError,
    Window,
)

from . import bulk, followups, queries
from .mapping import gid_id, map_fees, map_order, map_variant
from .pacing import ShopifyAuth, ShopifyPacer

DEFAULT_API_VERSION = "2026-07"
DEFAULT_BULK_THRESHOLD = 25_000
LIMITED_HISTORY_DAYS = 60
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


def set_aside(kind: str, payload: Any, reason: str) -> SetAside:
    """:meth:`SetAside.of` keyed by the numeric id the records use, not the gid."""
    entry = SetAside.of(kind, payload, reason)
    try:
        return dataclasses.replace(entry, external_id=gid_id(entry.external_id))
    except BadRecord:
        return entry


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyChannel(Channel):
    name = "shopify"
    display_name = "Shopify"
    version = "1.0"
    max_lookback_days = 0
    change_detection = ChangeDetection(
        description="Shopify bumps an order's updatedAt on every edit, refund, fulfilment and "
                    "cancellation, so the updated_at filter finds every change; fees are read "
                    "from the orders updated since the window starts.",
    )
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField("shop_domain", "the shop's name.myshopify.com domain", secret=False),
        CredentialField("access_token", "Admin API access token (custom app token or OAuth offline token)"),
        CredentialField("refresh_token", "refresh token of an expiring offline token", required=False),
        CredentialField("client_id", "the app's client id (expiring tokens)", required=False, secret=False),
        CredentialField("client_secret", "the app's client secret (expiring tokens)", required=False),
    )
    simulator_class: ClassVar[type | None] = None
    """Set to :class:`~.simulator.ShopifySimulator` by the package (no import cycle here)."""

    def __init__(self, ctx: ChannelContext) -> None:
        settings = dict(ctx.settings)
        if not settings.get("base_url"):
            settings["base_url"] = f"https://{ctx.credentials.get('shop_domain', '')}"
        super().__init__(dataclasses.replace(ctx, settings=settings))
        self.api_version = str(self.settings.get("api_version") or DEFAULT_API_VERSION)
        self.graphql_path = f"/admin/api/{self.api_version}/graphql.json"
        self.bulk_threshold = int(self.settings.get("bulk_threshold_orders", DEFAULT_BULK_THRESHOLD))
        self.bulk_poll_s = float(self.settings.get("bulk_poll_s", 2.0))
        self.scopes: frozenset[str] | None = None

    @classmethod
    def credential_problems(cls, credentials: Mapping[str, str]) -> dict[str, str]:
        problems = super().credential_problems(credentials)
        domain = credentials.get("shop_domain") or ""
        if domain and not SHOP_DOMAIN.match(domain):
            problems["shop_domain"] = ("must be a *.myshopify.com domain such as name.myshopify.com "
                                       "(lower case, no scheme or path)")
        return {f.name: problems[f.name] for f in cls.credential_fields if f.name in problems}

    def create_pacer(self) -> ShopifyPacer:
        return ShopifyPacer(self.limiters, self.ctx.credentials.get("shop_domain", ""))

    def create_auth(self) -> ShopifyAuth:
        return ShopifyAuth(self.ctx.credentials, self.ctx.save_credentials, self.ctx.clock,
                           token_url=str(self.ctx.settings.get("token_url") or "/admin/oauth/access_token"))

    # -- GraphQL ---------------------------------------------------------------

    def gql(self, query: str, variables: Mapping[str, Any] | None = None,
            operation: str = "graphql") -> dict[str, Any]:
        """POST one document; return its ``data``. THROTTLED answers are waited
        out by the paced client; other GraphQL errors raise."""
        body = self.http.request_json(
            "POST", self.graphql_path, operation=operation, cost=queries.requested_cost(query, variables),
            json_body={"query": query, "variables": dict(variables or {})},
        )
        errors = body.get("errors") if isinstance(body, dict) else "not a JSON object"
        if errors:
            codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
            text = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            if codes & {"INTERNAL_SERVER_ERROR", "TIMEOUT"}:
                raise TransientChannelError(f"{operation}: {text}")
            if "ACCESS_DENIED" in codes:
                raise AuthError(f"{operation}: {text}")
            raise PermanentChannelError(f"{operation}: {text}")
        return body["data"]

    def budget(self) -> float:
        return min(queries.MAX_QUERY_COST, self.http.pacer.capacity())  # type: ignore[attr-defined]

    def learn_scopes(self, data: Mapping[str, Any]) -> None:
        install = data.get("currentAppInstallation")
        if isinstance(install, dict):
            self.scopes = frozenset(s["handle"] for s in install.get("accessScopes") or ())

    def reach(self) -> timedelta | None:
        """How far back from now these credentials see orders (R2), None if all."""
        if self.scopes is None or "read_all_orders" in self.scopes:
            return None
        return timedelta(days=LIMITED_HISTORY_DAYS)

    def reachable_since(self) -> datetime | None:
        """The earliest order these credentials can see now (R2), None if all."""
        reach = self.reach()
        return None if reach is None else self.clock.now() - reach

    # -- the contract ------------------------------------------------------------

    def connect(self) -> ShopInfo:
        bad = self.credential_problems(self.credentials)
        if bad:
            raise PermanentChannelError("; ".join(f"{name}: {rule}" for name, rule in bad.items()))
        data = self.gql(queries.SHOP_QUERY, operation="graphql_shop")
        self.learn_scopes(data)
        scopes = self.scopes or frozenset()
        if not scopes & {"read_orders", "write_orders"}:
            raise PermanentChannelError("access scopes: the app lacks read_orders; grant it and reconnect")
        warnings = []
        if "read_all_orders" not in scopes and self.is_floor_out_of_reach(self.reachable_since()):
            warnings.append(f"the app lacks read_all_orders: Shopify shows only the last "
                            f"{LIMITED_HISTORY_DAYS} days of orders (R2)")
        if not scopes & {"read_products", "write_products"}:
            warnings.append("the app lacks read_products: listings cannot be read")
        shop = data["shop"]
        return ShopInfo(external_shop_id=gid_id(shop["id"]), name=str(shop["name"]),
                        currency=str(shop["currencyCode"]), warnings=tuple(warnings),
                        reach=self.reach())

    def iter_orders(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[OrderRecord]]:
        cur = dict(cursor or {})
        if cur.get("phase") == "done":
            return
        if cur.get("phase") == "bulk":
            yield from bulk.iter_bulk_orders(self, window, cur)
            return
        search = self.orders_search(window)
        sort = "UPDATED_AT" if window.modified_since else "CREATED_AT"
        pager = CursorPaginator(cur.get("after"), what="shopify orders")
        first_page = pager.token is None
        while True:
            size = queries.fit_first(queries.orders_query, self.budget())
            data = self.gql(queries.orders_query(size),
                            {"after": pager.token, "query": search, "sortKey": sort}, "graphql_orders")
            self.learn_scopes(data)
            nodes, broken = split_edges(data["orders"]["edges"], "order")
            followups.complete_orders(self, nodes)
            records, aside = self.map_orders(nodes, window)
            aside = [*broken, *aside]
            more = pager.advance_page_info(data["orders"]["pageInfo"])
            if first_page and more and window.modified_since is None and self._wants_bulk(window, nodes):
                yield Page(tuple(records), {"phase": "bulk"}, tuple(aside))
                yield from bulk.iter_bulk_orders(self, window, {"phase": "bulk"})
                return
            first_page = False
            next_cursor = {"phase": "paged", "after": pager.token} if more else {"phase": "done"}
            yield Page(tuple(records), next_cursor, tuple(aside))
            if not more:
                return

    def iter_listings(self, cursor: Cursor | None = None) -> Iterator[Page[ListingRecord]]:
        cur = dict(cursor or {})
        if cur.get("phase") == "done":
            return
        pager = CursorPaginator(cur.get("after"), what="shopify productVariants")
        while True:
            size = queries.fit_first(queries.variants_query, self.budget())
            data = self.gql(queries.variants_query(size), {"after": pager.token}, "graphql_variants")
            currency = str(data["shop"]["currencyCode"])
            records: list[ListingRecord] = []
            variants, aside = split_edges(data["productVariants"]["edges"], "listing")
            for node in variants:
                try:
                    records.append(map_variant(node, currency))
                except BadRecord as exc:
                    aside.append(set_aside("listing", node, str(exc)))
            more = pager.advance_page_info(data["productVariants"]["pageInfo"])
            yield Page(tuple(records), {"phase": "paged", "after": pager.token} if more else {"phase": "done"},
                       tuple(aside))
            if not more:
                return

    def iter_fees(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[FeeRecord]]:
        cur = dict(cursor or {})
        if cur.get("phase") == "done":
            return
        since = max(window.placed_from, window.modified_since or window.placed_from)
        # A fee in the window belongs to a transaction in it: its order was
        # created before the window ends and updated at or after it starts.
        search = f"updated_at:>='{iso(since)}' created_at:<'{iso(window.placed_to)}'"
        horizon = self.reachable_since()
        pager = CursorPaginator(cur.get("after"), what="shopify fees")
        while True:
            size = queries.fit_first(queries.fees_query, self.budget())
            data = self.gql(queries.fees_query(size), {"after": pager.token, "query": search}, "graphql_fees")
            records: list[FeeRecord] = []
            aside: list[SetAside] = []
            order_nodes, broken = split_edges(data["orders"]["edges"], "fee")
            aside.extend(broken)
            for node in order_nodes:
                try:
                    txns = node.get("transactions") or []
                    if len(txns) >= queries.TRANSACTIONS_PER_ORDER:
                        txns = followups.order_list(self, node["id"], "transactions")
                    fees = map_fees(node, txns, window)
                except BadRecord as exc:
                    aside.append(set_aside("fee", node, str(exc)))
                    continue
                records.extend(f for f in fees if horizon is None or f.occurred_at >= horizon)
            more = pager.advance_page_info(data["orders"]["pageInfo"])
            yield Page(tuple(records), {"phase": "paged", "after": pager.token} if more else {"phase": "done"},
                       tuple(aside))
            if not more:
                return

    # -- orders, piece by piece ----------------------------------------------------

    def orders_search(self, window: Window) -> str:
        start = window.placed_from
        horizon = self.reachable_since()
        if horizon is not None:
            start = max(start, horizon)
        placed = f"created_at:>='{iso(start)}' created_at:<'{iso(window.placed_to)}'"
        if window.modified_since is None:
            return placed
        return f"updated_at:>='{iso(window.modified_since)}' {placed}"

    def _wants_bulk(self, window: Window, nodes: list[dict[str, Any]]) -> bool:
        """Estimate the window's orders from the first page's density (sorted
        by creation): more than the threshold means a bulk operation."""
        if not nodes:
            return False
        try:
            last = datetime.fromisoformat(str(nodes[-1]["createdAt"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return False
        covered = max((last - window.placed_from).total_seconds(), 1.0)
        span = (window.placed_to - window.placed_from).total_seconds()
        return len(nodes) * span / covered > self.bulk_threshold

    def map_orders(self, nodes: list[dict[str, Any]], window: Window) -> tuple[list[OrderRecord], list[SetAside]]:
        """Map complete order nodes; keep those placed in the window and
        visible to the credentials (R2); set aside the malformed (R15)."""
        horizon = self.reachable_since()
        records, aside = [], []
        for node in nodes:
            try:
                record = map_order(node)
            except BadRecord as exc:
                aside.append(set_aside("order", node, str(exc)))
                continue
            if window.contains(record.placed_at) and (horizon is None or record.placed_at >= horizon):
                records.append(record)
        return records, aside


def split_edges(edges: Any, kind: str) -> tuple[list[dict[str, Any]], list[SetAside]]:
    """The nodes of a connection's edges; an edge or node that is not an object
    is set aside with its reason instead of crashing the pull (R15)."""
    nodes: list[dict[str, Any]] = []
    aside: list[SetAside] = []
    for edge in edges if isinstance(edges, list) else []:
        node = edge.get("node") if isinstance(edge, dict) else None
        if isinstance(node, dict):
            nodes.append(node)
        else:
            aside.append(SetAside.of(kind, edge, "connection edge without an object node"))
    return nodes, aside
