"""Pure functions from SP-API JSON to the SDK's records (R11, R14, R15).

Orders come from Orders API v2026-01-01 (money ``{amount: "str", currencyCode}``),
listings from FBA Inventory summaries; refunds and fees from Finances are in
:mod:`.mapping_finances`. Malformed input raises :class:`BadRecord`; nothing
here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from makersync.plugins import (
    BadRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
    utc,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD", "A2EUQ1WTGCTBG2": "CAD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
    "A1F83G8C2ARO7P": "GBP", "A1PA6795UKMFR9": "EUR", "A13V1IB3VIYZZH": "EUR", "APJ6JRA9NG5V4": "EUR",
    "A1RKKUPIHCS9HS": "EUR", "A1805IZSGTT6HS": "EUR", "A2NODRKZP88ZB9": "SEK", "A1C3SOZRARQ6R3": "PLN",
    "ARBP9OOSHTCHU": "EGP", "A33AVAJ2PDY3EV": "TRY", "A17E79C6D8DWNP": "SAR", "A2VIGQ35RCS4UG": "AED",
    "A21TJRUUN4KGV": "INR", "A19VAU5U5O7RUS": "SGD", "A39IBJ37TRP1C6": "AUD", "A1VC38T7YXB528": "JPY",
}

# Orders v2026-01-01 fulfillmentStatus -> normalised status (before refunds).
FULFILLMENT_STATUS = {
    "PENDING_AVAILABILITY": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.PAID,
    "PARTIALLY_SHIPPED": OrderStatus.PARTIALLY_SHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELLED,
    "UNFULFILLABLE": OrderStatus.PAID,
}
FULFILLED_BY = {"AMAZON": "FBA", "MERCHANT": "MFN"}

# --- small readers ---------------------------------------------------------------


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise BadRecord(f"{field}: expected an ISO 8601 time, got {value!r}")
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise BadRecord(f"{field}: not an ISO 8601 time: {value!r}") from exc


def _opt_time(value: Any, field: str) -> datetime | None:
    return parse_time(value, field) if value not in (None, "") else None


def order_money(value: Any, field: str) -> tuple[Decimal, str]:
    """Orders/Listings money ``{amount: "154.99", currencyCode}``; amount is a decimal string."""
    if not isinstance(value, Mapping) or not isinstance(value.get("amount"), str):
        raise BadRecord(f"{field}: expected {{amount: str, currencyCode}}, got {value!r}")
    try:
        amount = Decimal(value["amount"])
    except InvalidOperation as exc:
        raise BadRecord(f"{field}.amount: not a decimal: {value['amount']!r}") from exc
    if not amount.is_finite():
        raise BadRecord(f"{field}.amount: not finite")
    return amount, str(value.get("currencyCode") or "")


def _str(raw: Mapping[str, Any], key: str, field: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise BadRecord(f"{field}: expected a non-empty string, got {value!r}")
    return value


# --- orders ----------------------------------------------------------------------


def map_order_line(item: Any, index: int) -> OrderLine:
    if not isinstance(item, Mapping):
        raise BadRecord(f"orderItems[{index}]: not an object")
    product = item.get("product")
    if not isinstance(product, Mapping):
        raise BadRecord(f"orderItems[{index}].product: missing")
    qty = item.get("quantityOrdered")
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise BadRecord(f"orderItems[{index}].quantityOrdered: expected an integer, got {qty!r}")
    price = (product.get("price") or {}).get("unitPrice")  # absent while an order is pending
    unit = order_money(price, f"orderItems[{index}].product.price.unitPrice")[0] if price is not None else ZERO
    sku = _str(product, "sellerSku", f"orderItems[{index}].product.sellerSku")
    return OrderLine(
        external_id=_str(item, "orderItemId", f"orderItems[{index}].orderItemId"),
        listing_external_id=_str(product, "asin", f"orderItems[{index}].product.asin"),
        variation_external_id=sku,
        sku=sku,
        title=str(product.get("title") or ""),
        quantity=qty,
        unit_price=unit,
    )


def order_status(channel_status: str, total: Decimal, refunded: Decimal) -> OrderStatus:
    """Precedence: cancelled > refunded > partially_refunded > shipped > ... (R11)."""
    if channel_status not in FULFILLMENT_STATUS:
        raise BadRecord(f"fulfillment.fulfillmentStatus: unknown status {channel_status!r}")
    base = FULFILLMENT_STATUS[channel_status]
    if base is OrderStatus.CANCELLED:
        return base
    if refunded > ZERO:
        return OrderStatus.REFUNDED if refunded >= total else OrderStatus.PARTIALLY_REFUNDED
    return base


def map_order(raw: Any, refunds: Iterable[RefundRecord] = ()) -> OrderRecord:
    """One v2026-01-01 Order (with PROCEEDS, FULFILLMENT, PACKAGES included) and the
    refunds Finances reports for it -> an OrderRecord."""
    if not isinstance(raw, Mapping):
        raise BadRecord("order: not an object")
    order_id = _str(raw, "orderId", "orderId")
    placed = parse_time(raw.get("createdTime"), "createdTime")
    updated = parse_time(raw.get("lastUpdatedTime"), "lastUpdatedTime")
    items = raw.get("orderItems")
    if not isinstance(items, list):
        raise BadRecord("orderItems: expected a list")
    lines = tuple(map_order_line(item, i) for i, item in enumerate(items))
    fulfillment = raw.get("fulfillment")
    if not isinstance(fulfillment, Mapping):
        raise BadRecord("fulfillment: missing (ask includedData=FULFILLMENT)")
    channel_status = _str(fulfillment, "fulfillmentStatus", "fulfillment.fulfillmentStatus")

    sales = raw.get("salesChannel") or {}
    currency = MARKETPLACE_CURRENCY.get(str(sales.get("marketplaceId") or ""), "")
    parts = {"ITEM": ZERO, "SHIPPING": ZERO, "TAX": ZERO, "DISCOUNT": ZERO}
    total = ZERO
    proceeds = raw.get("proceeds")
    if proceeds is not None:  # pending orders carry no prices
        if not isinstance(proceeds, Mapping):
            raise BadRecord("proceeds: not an object")
        currencies = set()
        for i, part in enumerate(proceeds.get("breakdowns") or ()):
            if not isinstance(part, Mapping):
                raise BadRecord(f"proceeds.breakdowns[{i}]: not an object")
            amount, code = order_money(part.get("subtotal"), f"proceeds.breakdowns[{i}].subtotal")
            currencies.add(code)
            kind = str(part.get("type") or "")
            if kind in parts:
                parts[kind] += amount
        if proceeds.get("grandTotal") is not None:
            total, code = order_money(proceeds["grandTotal"], "proceeds.grandTotal")
            currencies.add(code)
        else:
            total = parts["ITEM"] - abs(parts["DISCOUNT"]) + parts["SHIPPING"] + parts["TAX"]
        currencies.discard("")
        if len(currencies) > 1:
            raise BadRecord(f"proceeds: mixed currencies {sorted(currencies)}")
        currency = currencies.pop() if currencies else currency

    refunds = tuple(sorted(refunds, key=lambda r: (r.created_at, r.external_id)))
    refunded = sum((r.amount for r in refunds), ZERO)
    status = order_status(channel_status, total, refunded)
    ship_times = [
        parse_time(p.get("shipTime"), f"packages[{i}].shipTime")
        for i, p in enumerate(raw.get("packages") or ())
        if isinstance(p, Mapping) and p.get("shipTime")
    ]
    modified = max([updated, *(r.created_at for r in refunds)])
    return OrderRecord(
        external_id=order_id,
        order_number=order_id,
        status=status,
        channel_status=channel_status,
        placed_at=placed,
        modified_at=modified,
        currency=currency,
        subtotal=parts["ITEM"],
        shipping=parts["SHIPPING"],
        tax=parts["TAX"],
        discount=abs(parts["DISCOUNT"]),
        total=total,
        lines=lines,
        refunds=refunds,
        shipped_at=min(ship_times) if ship_times else None,
        cancelled_at=updated if channel_status == "CANCELLED" else None,
        fulfillment=FULFILLED_BY.get(str(fulfillment.get("fulfilledBy") or ""), ""),
    )


# --- listings ----------------------------------------------------------------------


def map_inventory_summary(raw: Any, title: str | None = None) -> ListingRecord:
    """One FBA inventory summary -> a listing variation: external id the ASIN,
    variation id the seller SKU (order lines carry the same pair)."""
    if not isinstance(raw, Mapping):
        raise BadRecord("inventorySummary: not an object")
    asin = _str(raw, "asin", "asin")
    sku = _str(raw, "sellerSku", "sellerSku")
    details = raw.get("inventoryDetails")
    qty = details.get("fulfillableQuantity") if isinstance(details, Mapping) else raw.get("totalQuantity")
    if qty is not None and (isinstance(qty, bool) or not isinstance(qty, int)):
        raise BadRecord(f"fulfillableQuantity: expected an integer, got {qty!r}")
    return ListingRecord(
        external_id=asin,
        variation_external_id=sku,
        sku=sku,
        title=title if title is not None else str(raw.get("productName") or ""),
        state="active" if qty else "inactive",
        quantity=qty,
        modified_at=_opt_time(raw.get("lastUpdatedTime"), "lastUpdatedTime"),
    )


def listing_item_title(raw: Any) -> str:
    """itemName of a Listings Items 2021-08-01 item's first summary."""
    if isinstance(raw, Mapping):
        for summary in raw.get("summaries") or ():
            if isinstance(summary, Mapping) and summary.get("itemName"):
                return str(summary["itemName"])
    return ""
