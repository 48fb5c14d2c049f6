"""The Amazon Selling Partner API channel.

Orders from Orders API v2026-01-01 ``searchOrders`` (see :mod:`.orders`),
fees and refunds from Finances v2024-06-19 ``listTransactions`` (see
:mod:`.finances`), listings from FBA Inventory summaries. LWA access tokens,
a token bucket per seller and operation, every ``...Before`` at least two
minutes in the past.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from makersync.plugins import (
    BadRecord,
    ChangeDetection,
    Channel,
    CredentialField,
    Cursor,
    CursorExpired,
    FeeRecord,
    ListingRecord,
    OrderRecord,
    Pacer,
    Page,
    PermanentChannelError,
    RefundRecord,
    SetAside,
    ShopInfo,
    TokenAuth,
    Window,
)

from .auth import LWA_TOKEN_URL, REGION_URLS, AmazonAuth, AmazonPacer
from .finances import FinanceWalker, Unreadable
from .mapping import listing_item_title, map_inventory_summary
from .orders import OrdersStream
from .simulator import AmazonSimulator

BEFORE_LAG = timedelta(minutes=2, seconds=1)  # every ...Before at least 2 minutes in the past
FEE_TRAILING = timedelta(hours=48)
TAIL_MIN = timedelta(minutes=15)  # read the time since this pull's walk only if it is longer
TRANSACTIONS_PATH = "/finances/2024-06-19/transactions"
INVENTORY_PATH = "/fba/inventory/v1/summaries"
PARTICIPATIONS_PATH = "/sellers/v1/marketplaceParticipations"
LONG_HISTORY_MARKETPLACES = frozenset({"A1VC38T7YXB528", "A39IBJ37TRP1C6", "A19VAU5U5O7RUS"})  # JP, AU, SG


class AmazonChannel(Channel):
    name: ClassVar[str] = "amazon"
    display_name: ClassVar[str] = "Amazon (Selling Partner API)"
    version: ClassVar[str] = "1.0"
    pulls: ClassVar[tuple[str, ...]] = ("orders", "listings", "fees")
    max_lookback_days: ClassVar[int] = 730
    change_detection: ClassVar[ChangeDetection] = ChangeDetection(
        fee_trailing_window_hours=48,
        ledger=True,
        description=(
            "Orders by lastUpdatedAfter; refunds are not in the Orders API, so every pull walks the "
            "Finances transactions posted since 48 hours before modified_since and re-reads the orders "
            "they name. Fees re-read a 48-hour trailing window (Finances settles late)."
        ),
    )
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField("client_id", "LWA client id of the SP-API application", secret=False),
        CredentialField("client_secret", "LWA client secret"),
        CredentialField("refresh_token", "LWA refresh token (Atzr|...) from the seller's authorisation"),
        CredentialField("region", "SP-API region: na, eu or fe", secret=False),
        CredentialField("marketplace_ids", "comma-separated marketplace ids, e.g. ATVPDKIKX0DER", secret=False),
        CredentialField("selling_partner_id", "the seller id from the authorisation callback", secret=False),
    )
    default_base_url: ClassVar[str] = REGION_URLS["na"]
    simulator_class: ClassVar[type] = AmazonSimulator

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.region = region = str(self.credentials.get("region") or "na").lower()
        self.base = str(self.settings.get("base_url") or REGION_URLS.get(region, "")).rstrip("/")
        self.seller_id = str(self.credentials.get("selling_partner_id") or "")
        self.marketplaces = [m.strip() for m in str(self.credentials.get("marketplace_ids") or "").split(",")
                             if m.strip()]
        self.finance = FinanceWalker(self.list_transactions, self.clock.now)
        self._order_refunds: dict[str, tuple[list[RefundRecord], list[Unreadable]]] = {}
        self._titles: dict[tuple[str, str], str] = {}

    # -- building blocks -------------------------------------------------------------

    def create_pacer(self) -> Pacer:
        return AmazonPacer(self.limiters, str(self.credentials.get("selling_partner_id") or ""))

    def create_auth(self) -> TokenAuth:
        token_url = str(self.settings.get("token_url") or LWA_TOKEN_URL)
        return AmazonAuth(self.credentials, self.ctx.save_credentials, self.clock, token_url)

    def before_limit(self) -> datetime:
        """The latest ``...Before`` Amazon accepts now."""
        return self.clock.now() - BEFORE_LAG

    def finance_start(self, window: Window) -> datetime:
        if window.modified_since is None:
            return window.placed_from
        return max(window.placed_from, window.modified_since - FEE_TRAILING)

    def get(self, path: str, operation: str, params: dict[str, Any] | None = None) -> Any:
        """GET one SP-API resource (an expired token is refreshed by the client,
        see AmazonAuth.is_expired)."""
        return self.http.get_json(self.base + path, params=params, operation=operation)

    def list_transactions(self, params: dict[str, str]) -> Any:
        return self.get(TRANSACTIONS_PATH, "listTransactions", params)

    @classmethod
    def credential_problems(cls, credentials: Mapping[str, str]) -> dict[str, str]:
        problems = super().credential_problems(credentials)
        region = str(credentials.get("region") or "").lower()  # as __init__ reads it
        if region and region not in REGION_URLS:
            problems["region"] = f"must be one of {', '.join(REGION_URLS)}"
        markets = str(credentials.get("marketplace_ids") or "")
        if markets and not any(m.strip() for m in markets.split(",")):
            problems["marketplace_ids"] = "must name at least one marketplace id, comma-separated"
        return {f.name: problems[f.name] for f in cls.credential_fields if f.name in problems}

    def _check_settings(self) -> None:
        bad = self.credential_problems(self.credentials)
        if bad:
            raise PermanentChannelError("amazon: " + "; ".join(f"{name}: {rule}" for name, rule in bad.items()))

    # -- connect ------------------------------------------------------------------------

    def connect(self) -> ShopInfo:
        self._check_settings()
        self.auth.refresh(self.http)  # the refresh token works, or AuthError
        body = self.get(PARTICIPATIONS_PATH, "getMarketplaceParticipations")
        found: dict[str, dict[str, Any]] = {}
        for entry in (body.get("payload") if isinstance(body, dict) else None) or []:
            market = entry.get("marketplace") if isinstance(entry, dict) else None
            if isinstance(market, dict) and market.get("id"):
                found[str(market["id"])] = entry
        active = [m for m in self.marketplaces
                  if m in found and (found[m].get("participation") or {}).get("isParticipating")]
        if not active:
            raise PermanentChannelError(
                f"amazon: the seller takes part in none of marketplace_ids {self.marketplaces}; "
                f"its marketplaces are {sorted(found)}")
        warnings = [f"marketplace {m} is not one this seller sells in; it is skipped"
                    for m in self.marketplaces if m not in active]
        warnings += [f"marketplace {m} has suspended listings" for m in active
                     if (found[m].get("participation") or {}).get("hasSuspendedListings")]
        self.marketplaces = active
        first = found[active[0]]
        reach = None
        if any(m not in LONG_HISTORY_MARKETPLACES for m in active):
            reach = timedelta(days=self.max_lookback_days)  # two years back from each pull, not from connect (R2)
            if self.is_floor_out_of_reach(self.clock.now() - reach):
                warnings.append("Amazon returns no orders older than two years (R2)")
        return ShopInfo(
            external_shop_id=self.seller_id,
            name=str(first.get("storeName") or first["marketplace"].get("name") or self.seller_id),
            currency=str(first["marketplace"].get("defaultCurrencyCode") or ""),
            warnings=tuple(warnings),
            reach=reach,
        )

    # -- orders -------------------------------------------------------------------------

    def iter_orders(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[OrderRecord]]:
        self._check_settings()
        return iter(OrdersStream(self, window, dict(cursor) if cursor else None))

    # -- fees ---------------------------------------------------------------------------

    def iter_fees(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[FeeRecord]]:
        """Transactions posted in the window (automatic pulls: from 48 h before
        modified_since), as fees. What the orders stream walked this pull is
        reused; only the time since that walk, if long, is read again."""
        self._check_settings()
        state = dict(cursor) if cursor else {}
        if state.get("done"):
            return
        cached = None
        if not state:
            start, end = self.finance_start(window), min(self.before_limit(), window.placed_to)
            cached = self.finance.cached(start)
            tail = cached is not None and end - cached.end > TAIL_MIN  # a few minutes: the next pull's 48 h
            bounds = [start, cached.end, end] if cached and tail else [start, cached.end if cached else end]
            state = {"bounds": [b.isoformat() for b in bounds], "seg": 0, "pos": None}
        bounds = [datetime.fromisoformat(b) for b in state["bounds"]]
        seen: set[str] = set()
        while state["seg"] < len(bounds) - 1:
            seg = state["seg"]
            pages = (iter(cached.pages) if cached is not None and seg == 0
                     else self.finance.walk(bounds[seg], bounds[seg + 1], state["pos"]))
            for page in pages:
                records = []
                for fee in (f for txn in page.transactions for f in txn.fees):
                    if fee.external_id not in seen and window.contains(fee.occurred_at):
                        seen.add(fee.external_id)
                        records.append(fee)
                state["pos"] = page.position
                if page.position is None:
                    state["seg"], state["done"] = seg + 1, seg + 2 >= len(bounds)
                yield Page(tuple(records), dict(state), tuple(e for u in page.unreadable for e in u.fee_entries()))
            if state["seg"] == seg:  # an empty range yields no page
                state["seg"], state["pos"] = seg + 1, None

    # -- listings -----------------------------------------------------------------------

    def iter_listings(self, cursor: Cursor | None = None) -> Iterator[Page[ListingRecord]]:
        """FBA inventory summaries of each marketplace. Page tokens die after 30
        seconds, so a refused token restarts that marketplace's scan (it is cheap)."""
        self._check_settings()
        m = int(cursor.get("m", 0)) if cursor else 0
        token = cursor.get("token") if cursor else None
        restarts = 0
        while m < len(self.marketplaces):
            market = self.marketplaces[m]
            params: dict[str, Any] = {"granularityType": "Marketplace", "granularityId": market,
                                      "marketplaceIds": market, "details": "true"}
            if token:
                params["nextToken"] = token
            try:
                body = self.get(INVENTORY_PATH, "getInventorySummaries", params)
            except PermanentChannelError as exc:
                if not token or exc.status_code != 400:
                    raise
                restarts += 1
                if restarts > 3:
                    raise CursorExpired(f"getInventorySummaries: page token refused ({exc})") from exc
                token = None
                continue
            summaries = ((body.get("payload") or {}).get("inventorySummaries") or []) if isinstance(body, dict) else []
            records, aside = [], []
            for raw in summaries:
                try:
                    records.append(map_inventory_summary(raw, self._title(raw, market)))
                except BadRecord as exc:
                    entry = SetAside.of("listing", raw, str(exc))
                    if isinstance(raw, dict) and not entry.external_id:
                        entry = SetAside("listing", str(raw.get("sellerSku") or raw.get("asin") or ""),
                                         entry.reason, entry.raw)
                    aside.append(entry)
            token = ((body.get("pagination") or {}).get("nextToken") or None) if isinstance(body, dict) else None
            if not token:
                m += 1
            yield Page(tuple(records), {"m": m, "token": token}, tuple(aside))

    def _title(self, raw: Any, market: str) -> str | None:
        """productName, or the Listings Items itemName where FBA gives none."""
        if not isinstance(raw, dict) or raw.get("productName") or not raw.get("sellerSku") or not self.seller_id:
            return None
        sku = str(raw["sellerSku"])
        if (market, sku) not in self._titles:
            try:
                body = self.get(f"/listings/2021-08-01/items/{quote(self.seller_id, safe='')}/{quote(sku, safe='')}",
                                "getListingsItem", {"marketplaceIds": market, "includedData": "summaries"})
            except PermanentChannelError as exc:
                if exc.status_code != 404:
                    raise
                body = None
            self._titles[(market, sku)] = listing_item_title(body)
        return self._titles[(market, sku)]

