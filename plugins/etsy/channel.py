"""The Etsy channel: Open API v3 receipts, listings and payment-ledger fees.

Orders come from ``getShopReceipts`` with transactions, refunds and shipments
embedded (no per-receipt calls). Etsy does not move a receipt's
``update_timestamp`` on refunds or ship-date changes, so an automatic pull
(R5) does four things, in an order that keeps the cursor small:

1. ``ledger``: walk the payment ledger since ``modified_since`` and note the
   receipts that refund/adjustment/label entries name (``pending``);
2. ``modified``: receipts changed since ``modified_since`` (``min_last_modified``),
   placed before the trailing window;
3. ``trailing``: every receipt placed in the trailing window (``min_created``);
4. ``pending``: ``getShopReceipt`` for the noted receipts that 2 and 3 did not
   already read (old receipts refunded since the last pull; usually none).

Initial and manual pulls read the window by ``min_created``/``max_created``.
Listings: ``getListingsByShop`` for each state with ``includes=Inventory``.
Fees: ledger entries in the window, in spans that always send both bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from makersync.plugins import (
    BadRecord,
    ChangeDetection,
    Channel,
    CredentialField,
    Cursor,
    FeeRecord,
    ListingRecord,
    OffsetPaginator,
    OrderRecord,
    Pacer,
    Page,
    PermanentChannelError,
    SetAside,
    ShopInfo,
    TokenAuth,
    Window,
)

from . import ledger, mapping
from .auth import EtsyAuth, EtsyPacer
from .reads import API, PAGE_LIMIT, get_page, walk_ledger
from .simulator import EtsySimulator

DEFAULT_TRAILING_DAYS = 30
DEFAULT_LEDGER_SPAN_DAYS = MAX_LEDGER_SPAN_DAYS = 31  # Etsy answers 400 past 2678400 s (open-api#346)
LISTING_STATES = ("active", "inactive", "sold_out", "draft", "expired")
DAY_S = 86_400


def epoch_s(when: datetime) -> int:
    return math.floor(when.timestamp())


class EtsyChannel(Channel):
    """Etsy Open API v3 (see the module docstring for how changes are found)."""

    name = "etsy"
    display_name = "Etsy"
    version = "1.0"
    pulls = ("orders", "listings", "fees")
    change_detection = ChangeDetection(
        trailing_window_days=DEFAULT_TRAILING_DAYS,
        ledger=True,
        description=(
            "Etsy does not move a receipt's update_timestamp on refunds or ship-date changes: every "
            "automatic pull re-reads receipts placed in the trailing window (setting trailing_window_days) "
            "and walks payment-ledger entries (refunds, payment adjustments, shipping labels) since the "
            "last pull to re-read the receipts they name."
        ),
    )
    credential_fields = (
        CredentialField("keystring", "The app's keystring (Your Apps)", secret=False),
        CredentialField("shared_secret", "The app's shared secret"),
        CredentialField("access_token", "OAuth access token as Etsy returns it (<user_id>.<token>)"),
        CredentialField("refresh_token", "OAuth refresh token"),
        CredentialField("shop_id", "Numeric shop id (found from /users/me when empty)", required=False,
                        secret=False),
        CredentialField("access_token_expires_at", "When the access token expires (ISO 8601)",
                        required=False, secret=False),
    )
    default_base_url = "https://api.etsy.com"
    simulator_class: ClassVar[type[EtsySimulator]] = EtsySimulator

    # -- building blocks -------------------------------------------------------

    def create_pacer(self) -> Pacer:
        return EtsyPacer(self.limiters, self.credentials.get("keystring", ""), after_wait=self._refresh_if_due)

    def _refresh_if_due(self) -> None:
        # PacedClient checks the token before the pacing wait; after hours waiting
        # for the day's quota it may have expired, and a 401 would spend a call.
        if self.auth is not None:
            self.auth.ensure_fresh(self.http)

    def create_auth(self) -> TokenAuth:
        base = str(self.settings.get("base_url") or self.default_base_url).rstrip("/")
        token_url = str(self.settings.get("token_url") or f"{base}/v3/public/oauth/token")
        return EtsyAuth(self.credentials, self.ctx.save_credentials, self.clock, token_url)

    def _setting_int(self, name: str, default: int) -> int:
        value = self.settings.get(name)
        return default if value in (None, "") else int(value)

    def _ledger_span_s(self) -> int:
        days = self._setting_int("ledger_span_days", DEFAULT_LEDGER_SPAN_DAYS)
        return min(max(1, days), MAX_LEDGER_SPAN_DAYS) * DAY_S

    def shop_id(self) -> str:
        """The shop's id: from the credentials, else ``GET /users/me`` (saved for next time)."""
        known = self.credentials.get("shop_id")
        if known:
            return str(known)
        me = self.http.get_json(f"{API}/users/me", operation="me")
        if not isinstance(me, dict) or not me.get("shop_id"):
            raise PermanentChannelError("this Etsy user has no shop")
        self.credentials["shop_id"] = str(me["shop_id"])
        self.ctx.save_credentials(dict(self.credentials))
        return self.credentials["shop_id"]

    # -- connect -----------------------------------------------------------------

    def connect(self) -> ShopInfo:
        shop_id = self.shop_id()
        shop = self.http.get_json(f"{API}/shops/{shop_id}", operation="shop")
        if not isinstance(shop, dict):
            raise PermanentChannelError("getShop: unexpected body")
        return ShopInfo(external_shop_id=shop_id, name=str(shop.get("shop_name") or shop_id),
                        currency=str(shop.get("currency_code") or ""))

    # -- orders --------------------------------------------------------------------

    def _order_phases(self, window: Window, now: int) -> list[tuple[str, dict[str, Any]]]:
        low, high = epoch_s(window.placed_from), epoch_s(window.placed_to)
        if window.modified_since is None:
            return [("created", {"min_created": low, "max_created": high, "sort_on": "created", "sort_order": "asc"})]
        since = epoch_s(window.modified_since)
        days = self._setting_int("trailing_window_days", DEFAULT_TRAILING_DAYS)
        trail = max(low, now - days * DAY_S) if days > 0 else high + 1
        phases: list[tuple[str, dict[str, Any]]] = [("ledger", {"min_created": since, "max_created": now})]
        if trail > low:
            phases.append(("modified", {"min_last_modified": since, "min_created": low,
                                        "max_created": min(trail, high), "sort_on": "updated", "sort_order": "asc"}))
        if trail <= high:
            phases.append(("trailing", {"min_created": trail, "max_created": high,
                                        "sort_on": "created", "sort_order": "asc"}))
        phases.append(("pending", {}))
        return phases

    def iter_orders(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[OrderRecord]]:
        shop = self.shop_id()
        state: dict[str, Any] = {"now": epoch_s(self.clock.now()), "phase": 0, "offset": 0, "chunk": None,
                                 "pending": [], **(cursor or {})}
        phases = self._order_phases(window, state["now"])
        while state["phase"] < len(phases):
            before = state["phase"]
            name, params = phases[before]
            if name == "ledger":
                pages = self._ledger_phase(shop, params, state)
            elif name == "pending":
                pages = self._pending_phase(shop, window, state)
            else:
                pages = self._receipt_phase(shop, window, params, state)
            yield from pages
            if state["phase"] == before:  # a phase with nothing to read yields no page
                state.update(phase=before + 1, offset=0, chunk=None)

    @staticmethod
    def _next_phase(state: dict[str, Any]) -> None:
        state.update(phase=state["phase"] + 1, offset=0, chunk=None)

    def _receipt_phase(self, shop: str, window: Window, params: dict[str, Any],
                       state: dict[str, Any]) -> Iterator[Page[OrderRecord]]:
        pager = OffsetPaginator(PAGE_LIMIT, state["offset"], what="getShopReceipts")
        more = True
        while more:
            pager.params()
            results, count = get_page(self.http, f"{API}/shops/{shop}/receipts", params, pager.offset, "receipts")
            records, aside, seen = self._map_receipts(results, window)
            more = pager.advance(len(results), count)
            state.update(offset=pager.offset, pending=[p for p in state["pending"] if p not in seen])
            if not more:
                self._next_phase(state)
            yield Page(tuple(records), dict(state), tuple(aside), estimated_total=count)

    def _map_receipts(self, results: list[Any], window: Window
                      ) -> tuple[list[OrderRecord], list[SetAside], set[str]]:
        records, aside, seen = [], [], set()
        for raw in results:
            if isinstance(raw, dict) and raw.get("receipt_id") is not None:
                seen.add(str(raw["receipt_id"]))
            try:
                order = mapping.receipt_to_order(raw)
            except BadRecord as exc:
                aside.append(SetAside.of("order", raw, str(exc)))
                continue
            if window.contains(order.placed_at):
                records.append(order)
        return records, aside, seen

    def _ledger_phase(self, shop: str, params: dict[str, Any], state: dict[str, Any]) -> Iterator[Page[OrderRecord]]:
        """Note receipts that refunds, adjustments and labels touched since the last pull."""
        high = params["max_created"]
        for entries, resume in walk_ledger(self.http, shop, self._ledger_span_s(), params["min_created"], high, state):
            pending = list(state["pending"])
            for entry in entries:
                receipt = ledger.touched_receipt(entry) if isinstance(entry, dict) else ""
                if receipt and receipt not in pending:
                    pending.append(receipt)
            state.update(resume, pending=pending)
            if resume["chunk"] > high:
                self._next_phase(state)
            yield Page((), dict(state))

    def _pending_phase(self, shop: str, window: Window, state: dict[str, Any]) -> Iterator[Page[OrderRecord]]:
        """getShopReceipt for each noted receipt no list page has read (old receipts refunded lately)."""
        while state["pending"]:
            receipt_id = state["pending"][0]
            records: list[OrderRecord] = []
            aside: list[SetAside] = []
            try:
                raw = self.http.get_json(f"{API}/shops/{shop}/receipts/{receipt_id}", operation="receipt")
                records, aside, _ = self._map_receipts([raw], window)
            except PermanentChannelError as exc:
                if exc.status_code != 404:
                    raise
            state["pending"] = state["pending"][1:]
            if not state["pending"]:
                self._next_phase(state)
            yield Page(tuple(records), dict(state), tuple(aside))

    # -- listings ----------------------------------------------------------------------

    def iter_listings(self, cursor: Cursor | None = None) -> Iterator[Page[ListingRecord]]:
        shop = self.shop_id()
        states = tuple(self.settings.get("listing_states") or LISTING_STATES)
        index, offset = int((cursor or {}).get("state", 0)), int((cursor or {}).get("offset", 0))
        while index < len(states):
            pager = OffsetPaginator(PAGE_LIMIT, offset, what=f"getListingsByShop {states[index]}")
            pager.params()
            results, count = get_page(self.http, f"{API}/shops/{shop}/listings",
                                            {"state": states[index], "includes": "Inventory"}, pager.offset,
                                            "listings")
            records: list[ListingRecord] = []
            aside: list[SetAside] = []
            for raw in results:
                try:
                    records.extend(mapping.listing_to_records(raw))
                except BadRecord as exc:
                    aside.append(SetAside.of("listing", raw, str(exc)))
            if pager.advance(len(results), count):
                offset = pager.offset
            else:
                index, offset = index + 1, 0
            yield Page(tuple(records), {"state": index, "offset": offset}, tuple(aside), estimated_total=count)

    # -- fees ------------------------------------------------------------------------------

    def iter_fees(self, window: Window, cursor: Cursor | None = None) -> Iterator[Page[FeeRecord]]:
        shop = self.shop_id()
        low, high = epoch_s(window.placed_from), epoch_s(window.placed_to)
        for entries, resume in walk_ledger(self.http, shop, self._ledger_span_s(), low, high, dict(cursor or {})):
            records: list[FeeRecord] = []
            aside: list[SetAside] = []
            for raw in entries:
                if not isinstance(raw, dict):
                    aside.append(SetAside.of("fee", raw, "ledger entry: expected an object"))
                    continue
                if not ledger.is_fee(raw):
                    continue
                try:
                    fee = ledger.ledger_to_fee(raw)
                except BadRecord as exc:
                    aside.append(SetAside.of("fee", raw, str(exc)))
                    continue
                if window.contains(fee.occurred_at):
                    records.append(fee)
            yield Page(tuple(records), resume, tuple(aside))
