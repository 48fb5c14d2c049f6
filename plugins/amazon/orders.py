"""The orders stream: searchOrders plus the refunds only Finances knows (R5, R11).

The Orders API has no refund status, so a pull first walks the Finances
transactions posted in its range (the ledger) and keeps the refunds by order
(in the cursor, so a resumed pull needs no second walk). Then ``searchOrders``
(``createdAfter``/``createdBefore`` for initial and manual pulls,
``lastUpdatedAfter``/``lastUpdatedBefore`` for automatic ones) with
``includedData`` brings items, fulfilment and money in one call per 100
orders, and each order is emitted with its refunds. An automatic pull then
re-reads (``getOrder``) the refunded orders the search did not return. An
order placed before the walk's start may have older refunds: those are read
per order (``listTransactions`` by ``ORDER_ID``).

Cursor phases: ``walk`` -> ``orders`` -> ``refetch`` -> ``done``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from makersync.plugins import (
    BadRecord,
    CursorExpired,
    OrderRecord,
    Page,
    PermanentChannelError,
    RefundRecord,
    SetAside,
    Window,
)

from .finances import Unreadable, iso
from .mapping import map_order, parse_time
from .mapping_finances import map_transaction

if TYPE_CHECKING:
    from .channel import AmazonChannel

SEARCH_PATH = "/orders/2026-01-01/orders"
INCLUDED_DATA = "PROCEEDS,FULFILLMENT,PACKAGES"
PAGE_SIZE = 100
MAX_RESTARTS = 2


def _ceil_iso(when: datetime) -> str:
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return iso(when)


def _full(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def start_cursor(channel: AmazonChannel, window: Window) -> dict[str, Any]:
    now_safe = channel.before_limit()
    walk_start = channel.finance_start(window)
    if window.modified_since is None:
        if window.placed_to <= now_safe:
            before = _ceil_iso(window.placed_to)
        else:
            before = iso(now_safe)
        search = {"createdAfter": iso(window.placed_from), "createdBefore": before}
        searchable = window.placed_from <= now_safe
    else:
        after = min(window.modified_since, now_safe)
        search = {"lastUpdatedAfter": iso(after), "lastUpdatedBefore": iso(now_safe)}
        searchable = True
    return {
        "v": 1, "phase": "walk", "walk_start": _full(walk_start), "walk_end": _full(now_safe), "walk_pos": None,
        "refunds": {}, "search": search if searchable else None, "token": None, "seen": 0,
        "pending": [], "automatic": window.modified_since is not None,
    }


class OrdersStream:
    def __init__(self, channel: AmazonChannel, window: Window, cursor: dict[str, Any] | None) -> None:
        self.ch = channel
        self.window = window
        self.state = dict(cursor) if cursor else start_cursor(channel, window)
        self.walk_start = datetime.fromisoformat(self.state["walk_start"])

    def __iter__(self) -> Iterator[Page[OrderRecord]]:
        if self.state["phase"] == "walk":
            yield from self._walk()
        if self.state["phase"] == "orders":
            yield from self._search()
        if self.state["phase"] == "refetch":
            yield from self._refetch()

    def _page(self, records: list[OrderRecord], aside: list[SetAside], total: int | None = None) -> Page[OrderRecord]:
        return Page(tuple(records), dict(self.state), tuple(aside), total)

    # -- ledger walk ------------------------------------------------------------

    def _walk(self) -> Iterator[Page[OrderRecord]]:
        start, end = self.walk_start, datetime.fromisoformat(self.state["walk_end"])
        for page in self.ch.finance.walk(start, end, self.state["walk_pos"]):
            found = [t for t in page.transactions if t.refund is not None]
            if found:  # copy on write: every page's cursor stays a snapshot
                refunds: dict[str, dict[str, list[str]]] = dict(self.state["refunds"])
                for txn in found:
                    r = txn.refund
                    assert r is not None
                    refunds[txn.order_id] = {**refunds.get(txn.order_id, {}),
                                             r.external_id: [str(r.amount), _full(r.created_at)]}
                self.state["refunds"] = refunds
            aside = [e for e in (u.order_entry() for u in page.unreadable) if e is not None]
            self.state["walk_pos"] = page.position
            if page.position is None:
                self._after_walk()
            yield self._page([], aside)
        if self.state["phase"] == "walk":
            self._after_walk()

    def _after_walk(self) -> None:
        self.state["pending"] = sorted(self.state["refunds"])
        if self.state["search"]:
            self.state["phase"] = "orders"
        else:
            self.state["phase"] = "refetch" if self.state["automatic"] else "done"

    # -- refunds of one order -------------------------------------------------------

    def _refunds_for(self, order_id: str, placed: datetime, aside: list[SetAside]) -> list[RefundRecord]:
        known = {
            txn_id: RefundRecord(txn_id, Decimal(amount), datetime.fromisoformat(when))
            for txn_id, (amount, when) in self.state["refunds"].get(order_id, {}).items()
        }
        if self.state["automatic"] and placed < self.walk_start:
            refunds, unreadable = order_refunds(self.ch, order_id)  # older refunds lie before the walk
            for r in refunds:
                known.setdefault(r.external_id, r)
            aside.extend(e for e in (u.order_entry() for u in unreadable) if e is not None)
        return list(known.values())

    def _record(self, raw: Any, aside: list[SetAside]) -> OrderRecord | None:
        """The order with its refunds, or None when placed outside the window."""
        placed = parse_time(raw.get("createdTime") if isinstance(raw, dict) else None, "createdTime")
        if not self.window.contains(placed):
            return None
        return map_order(raw, self._refunds_for(str(raw.get("orderId") or ""), placed, aside))

    # -- searchOrders -----------------------------------------------------------------

    def _search(self) -> Iterator[Page[OrderRecord]]:
        search = self.state["search"]
        restarts = 0
        pending = set(self.state["pending"])
        time_key = "createdTime" if "createdAfter" in search else "lastUpdatedTime"
        lo = parse_time(search.get("createdAfter") or search.get("lastUpdatedAfter"), "search")
        hi = parse_time(search.get("createdBefore") or search.get("lastUpdatedBefore"), "search")
        while True:
            token = self.state["token"]
            params = {**search, "marketplaceIds": ",".join(self.ch.marketplaces),
                      "includedData": INCLUDED_DATA, "maxResultsPerPage": PAGE_SIZE}
            if token:
                params["paginationToken"] = token
            try:
                body = self.ch.get(SEARCH_PATH, "searchOrders", params)
            except PermanentChannelError as exc:
                if not token or exc.status_code != 400:
                    raise
                restarts += 1  # the 24-hour page token died: read the search again from its start
                if restarts > MAX_RESTARTS:
                    raise CursorExpired(f"searchOrders: page token refused ({exc})") from exc
                self.state.update(token=None, seen=0)
                continue
            orders = body.get("orders") if isinstance(body, dict) else None
            if not isinstance(orders, list):
                raise PermanentChannelError("searchOrders: response without an orders list")
            records: list[OrderRecord] = []
            aside: list[SetAside] = []
            last = None
            for raw in orders:
                try:
                    rec = self._record(raw, aside)
                    last = parse_time(raw.get(time_key), time_key)
                except BadRecord as exc:
                    aside.append(SetAside.of("order", raw, str(exc)))
                    continue
                if rec is not None:
                    records.append(rec)
                    pending.discard(rec.external_id)
            self.state["seen"] = int(self.state["seen"]) + len(orders)
            echoed = body.get("createdBefore") or body.get("lastUpdatedBefore")
            if echoed:  # the bound Amazon applied: the search is complete up to it
                self.state["through"] = echoed
            nxt = (body.get("pagination") or {}).get("nextToken")
            self.state["token"] = nxt or None
            self.state["pending"] = sorted(pending)
            if not nxt:
                self.state["phase"] = "refetch" if self.state["automatic"] else "done"
            yield self._page(records, aside, self._estimate(lo, hi, last, bool(nxt)))
            if not nxt:
                return

    def _estimate(self, lo: datetime, hi: datetime, last: datetime | None, more: bool) -> int | None:
        """Orders come oldest first: the share of the range covered so far gives
        the total to expect (Amazon gives no count)."""
        seen = int(self.state["seen"])
        if not more:
            return seen
        if last is None or last <= lo or hi <= lo:
            return None
        share = min(1.0, (last - lo).total_seconds() / (hi - lo).total_seconds())
        return max(seen, int(seen / share)) if share > 0 else None

    # -- refunded orders the search did not return ---------------------------------------

    def _refetch(self) -> Iterator[Page[OrderRecord]]:
        while self.state["pending"]:
            order_id = self.state["pending"][0]
            raw = get_order(self.ch, order_id)
            records: list[OrderRecord] = []
            aside: list[SetAside] = []
            if raw is not None:
                try:
                    rec = self._record(raw, aside)
                    if rec is not None:
                        records.append(rec)
                except BadRecord as exc:
                    aside.append(SetAside.of("order", raw, str(exc)))
            self.state["pending"] = self.state["pending"][1:]
            if not self.state["pending"]:
                self.state["phase"] = "done"
            yield self._page(records, aside)
        self.state["phase"] = "done"


# -- per-order reads ------------------------------------------------------------------


def order_refunds(ch: AmazonChannel, order_id: str) -> tuple[list[RefundRecord], list[Unreadable]]:
    """Every refund Finances holds for one order (listTransactions by ORDER_ID),
    and the transactions of that order that could not be read."""
    if order_id in ch._order_refunds:
        return ch._order_refunds[order_id]
    found: dict[str, RefundRecord] = {}
    unreadable: list[Unreadable] = []
    token = None
    while True:
        params = {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": order_id}
        if token:
            params["nextToken"] = token
        payload = (ch.list_transactions(params) or {}).get("payload") or {}
        for raw in payload.get("transactions") or []:
            try:
                txn = map_transaction(raw)
            except BadRecord as exc:
                unreadable.append(Unreadable.of(raw, str(exc)))
                continue
            if txn.refund is not None and txn.order_id == order_id:
                found[txn.refund.external_id] = txn.refund
        token = payload.get("nextToken")
        if not token:
            break
    ch._order_refunds[order_id] = (list(found.values()), unreadable)
    return ch._order_refunds[order_id]

def get_order(ch: AmazonChannel, order_id: str) -> Any:
    """One order by id (getOrder), or None when Amazon does not know it."""
    try:
        body = ch.get(f"/orders/2026-01-01/orders/{quote(order_id, safe='')}", "getOrder",
                        {"includedData": "PROCEEDS,FULFILLMENT,PACKAGES"})
    except PermanentChannelError as exc:
        if exc.status_code == 404:
            return None
        raise
    return body.get("order") if isinstance(body, dict) else None
