"""The Etsy simulator's resources: parameter checks as Etsy answers them (400
with ``{"error": ...}``), ``{count, results}`` paging, epoch-second filters,
and the receipts, listings and ledger entries of the simulated shop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from makersync.plugins.simshop import SimOrder, SimShop

from .simdata import EtsyShopData, ts

MIN_EPOCH = 946684800
LISTING_STATES = ("active", "inactive", "sold_out", "draft", "expired")
SORT_ORDERS = {"asc": "asc", "ascending": "asc", "up": "asc", "desc": "desc", "descending": "desc", "down": "desc"}


class ApiError(Exception):
    """An answer other than 200, raised by a resource and rendered by the simulator."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class EtsyResources:
    """Mixed into :class:`EtsySimulator`; reads ``self.shop``, ``self.data`` and its knobs."""

    shop: SimShop
    data: EtsyShopData
    clamp_limit: bool
    ledger_max_span_s: int
    malformed: Callable[[], bool]
    _version: Callable[[], tuple[int, int]]
    _query_cache: dict[Any, list[SimOrder]]

    # -- parameters ----------------------------------------------------------------

    def _int(self, params: httpx.QueryParams, name: str, *, minimum: int = MIN_EPOCH,
             maximum: int | None = None, default: int | None = None, required: bool = False) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            if required:
                raise ApiError(400, f"Missing required parameter: {name}")
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"Expected int for '{name}', got '{raw}'") from None
        if value < minimum:
            raise ApiError(400, f"Expected int >= {minimum} for '{name}', got {value}")
        if maximum is not None and value > maximum:
            if name == "limit" and self.clamp_limit:
                return maximum
            raise ApiError(400, f"Expected int <= {maximum} for '{name}', got {value}")
        return value

    def _paging(self, params: httpx.QueryParams) -> tuple[int, int]:
        limit = self._int(params, "limit", minimum=1, maximum=100, default=25)
        offset = self._int(params, "offset", minimum=0, default=0)
        assert limit is not None and offset is not None
        return limit, offset

    @staticmethod
    def _bool(params: httpx.QueryParams, name: str) -> bool | None:
        raw = params.get(name)
        return None if raw is None else raw.lower() in ("true", "1")

    # -- resources --------------------------------------------------------------------

    def _order(self, receipt_id: str) -> SimOrder:
        try:
            return self.shop.order(receipt_id)
        except KeyError:
            raise ApiError(404, f"Could not find a receipt with receipt_id = {receipt_id}") from None

    def _rendered(self, order: SimOrder) -> dict[str, Any]:
        if not order.malformed and self.malformed():
            order.malformed = True
        return self.data.receipt(order)

    def _receipts(self, params: httpx.QueryParams) -> dict[str, Any]:
        limit, offset = self._paging(params)
        bounds = {name: self._int(params, name) for name in
                  ("min_created", "max_created", "min_last_modified", "max_last_modified")}
        sort_on = params.get("sort_on", "created")
        order = SORT_ORDERS.get(params.get("sort_order", "desc"))
        if sort_on not in ("created", "updated", "receipt_id") or order is None:
            raise ApiError(400, "Invalid sort_on or sort_order")
        flags = {name: self._bool(params, name) for name in ("was_paid", "was_shipped", "was_canceled")}

        def keep(o: SimOrder) -> bool:
            created, modified = ts(o.placed_at), ts(self.data.modified(o))
            return all((
                bounds["min_created"] is None or created >= bounds["min_created"],
                bounds["max_created"] is None or created <= bounds["max_created"],
                bounds["min_last_modified"] is None or modified >= bounds["min_last_modified"],
                bounds["max_last_modified"] is None or modified <= bounds["max_last_modified"],
                flags["was_paid"] is None or o.paid == flags["was_paid"],
                flags["was_shipped"] is None or (o.shipped_at is not None) == flags["was_shipped"],
                flags["was_canceled"] is None or (o.cancelled_at is not None) == flags["was_canceled"],
            ))

        def key(o: SimOrder) -> tuple[int, int]:
            if sort_on == "updated":
                return ts(self.data.modified(o)), o.order_id
            return (ts(o.placed_at), o.order_id) if sort_on == "created" else (o.order_id, 0)

        query = (tuple(sorted(bounds.items())), tuple(sorted(flags.items())), sort_on, order)
        found = self._query_cache.get((self._version(), query))
        if found is None:  # pages of one query share the filtered, sorted list
            found = sorted((o for o in self.shop.orders if keep(o)), key=key, reverse=order == "desc")
            self._query_cache = {(self._version(), query): found}
        return {"count": len(found), "results": [self._rendered(o) for o in found[offset:offset + limit]]}

    def _listings(self, params: httpx.QueryParams) -> dict[str, Any]:
        limit, offset = self._paging(params)
        state = params.get("state", "active")
        if state not in LISTING_STATES:
            raise ApiError(400, f"Invalid state: {state}")
        includes = {part.strip().lower() for value in params.get_list("includes")
                    for part in value.split(",") if part.strip()}
        found = sorted((li for li in self.shop.listings if li.state == state),
                       key=lambda li: (-ts(li.created_at), li.listing_id))
        page = found[offset:offset + limit]
        for li in page:
            if li.listing_id not in self.data.bad_listings and self.malformed():
                self.data.bad_listings.add(li.listing_id)
        return {"count": len(found), "results": [self.data.listing(li, "inventory" in includes) for li in page]}

    def _ledger(self, params: httpx.QueryParams) -> dict[str, Any]:
        limit, offset = self._paging(params)
        low = self._int(params, "min_created", required=True)
        high = self._int(params, "max_created", required=True)
        assert low is not None and high is not None
        if high < low:
            raise ApiError(400, "max_created must be greater than or equal to min_created")
        if self.ledger_max_span_s and high - low > self.ledger_max_span_s:
            raise ApiError(400, f"Time window between min_created and max_created must be no more than "
                                f"{self.ledger_max_span_s} seconds ({self.ledger_max_span_s // 86400} days).")
        found = [e for e in self.data.ledger() if low <= e["created_timestamp"] <= high]
        page = found[offset:offset + limit]
        for entry in page:
            if entry["entry_id"] not in self.data.bad_entries and self.malformed():
                self.data.bad_entries.add(entry["entry_id"])
                entry["amount"] = str(entry["amount"])
        return {"count": len(found), "results": page}
