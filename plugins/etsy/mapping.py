"""Pure functions from Etsy Open API v3 JSON to the SDK's records.

Nothing here does I/O. Every function raises :class:`BadRecord` with the field
at fault when a payload cannot be read; the channel sets that record aside
(R15) and goes on.

Id rule (R9): an inventory product with property values is a variation and
its ``variation_external_id`` is ``str(product_id)``; a listing without
variations has one product with no property values, and its variation id is
"". A receipt transaction uses the same rule on its ``product_data`` (the
product's property values) or, failing that, on ``variations[]`` entries
that name a value (personalisation answers carry no ``value_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from makersync.plugins import (
    BadRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
)

from .fields import epoch, field, integer, money, money_or_zero, optional_epoch, variation_id

RECEIPT_STATUSES = frozenset(
    {"paid", "completed", "open", "payment processing", "canceled", "fully refunded", "partially refunded"}
)
FAILED_REFUND_STATUSES = frozenset({"failed", "declined", "canceled", "cancelled", "reversed"})



# -- orders ----------------------------------------------------------------------


def receipt_status(receipt: Mapping[str, Any], total: Decimal, refunded: Decimal,
                   shipped: bool, partly_shipped: bool) -> OrderStatus:
    """Normalise ``status`` with what else the receipt says (OrderStatus precedence)."""
    word = field(receipt, "status", "receipt")
    if not isinstance(word, str) or word.lower() not in RECEIPT_STATUSES:
        raise BadRecord(f"receipt.status: unknown status {word!r}")
    word = word.lower()
    if word == "canceled":
        return OrderStatus.CANCELLED
    if word == "fully refunded" or (refunded > 0 and refunded >= total):
        return OrderStatus.REFUNDED
    if word == "partially refunded" or refunded > 0:
        return OrderStatus.PARTIALLY_REFUNDED
    if shipped or word == "completed":
        return OrderStatus.SHIPPED
    if partly_shipped:
        return OrderStatus.PARTIALLY_SHIPPED
    if word == "paid" or receipt.get("is_paid") is True:
        return OrderStatus.PAID
    return OrderStatus.PENDING


def transaction_line(tx: Mapping[str, Any]) -> OrderLine:
    """One ShopReceiptTransaction as an order line (unit price before coupons)."""
    what = "transaction"
    price, _ = money(tx, "price", what)
    product_data = tx.get("product_data") or []
    variations = tx.get("variations") or []
    if not isinstance(product_data, list) or not isinstance(variations, list):
        raise BadRecord("transaction.product_data/variations: expected arrays")
    chosen = any(isinstance(v, dict) and v.get("value_id") is not None for v in variations)
    listing_id = tx.get("listing_id")
    return OrderLine(
        external_id=str(integer(tx, "transaction_id", what)),
        listing_external_id="" if listing_id is None else str(listing_id),
        variation_external_id=variation_id(tx.get("product_id"), bool(product_data) or chosen),
        sku=str(tx.get("sku") or ""),
        title=str(tx.get("title") or ""),
        quantity=integer(tx, "quantity", what),
        unit_price=price,
    )


def receipt_refunds(receipt: Mapping[str, Any], receipt_id: int) -> tuple[RefundRecord, ...]:
    """ShopRefunds have no id of their own: ``<receipt>-<created>-<n>`` is stable across reads."""
    raw = receipt.get("refunds") or []
    if not isinstance(raw, list):
        raise BadRecord("receipt.refunds: expected an array")
    out: list[RefundRecord] = []
    seen: dict[int, int] = {}
    for item in raw:
        status = str(item.get("status") or "").lower() if isinstance(item, dict) else ""
        created = integer(item, "created_timestamp", "refund")
        n = seen[created] = seen.get(created, -1) + 1
        if status in FAILED_REFUND_STATUSES:
            continue
        amount, _ = money(item, "amount", "refund")
        out.append(RefundRecord(f"{receipt_id}-{created}-{n}", amount,
                                datetime.fromtimestamp(created, UTC), str(item.get("reason") or "")))
    return tuple(out)


def receipt_to_order(receipt: Mapping[str, Any]) -> OrderRecord:
    """A ShopReceipt (with its embedded transactions, refunds, shipments) as an OrderRecord.

    ``total`` is ``grandtotal``; ``discount`` the receipt's ``discount_amt`` (the
    per-line ``buyer_coupon``/``shop_coupon`` floats are never summed). ``modified_at``
    is the latest of ``updated_timestamp``, the refunds and the ship dates, because
    Etsy does not move ``updated_timestamp`` on refunds or ship-date changes."""
    what = "receipt"
    receipt_id = integer(receipt, "receipt_id", what)
    placed = epoch(receipt, "created_timestamp", what, "create_timestamp")
    updated = epoch(receipt, "updated_timestamp", what, "update_timestamp")
    total, currency = money(receipt, "grandtotal", what)
    subtotal, _ = money(receipt, "total_price", what)
    txs = receipt.get("transactions")
    if not isinstance(txs, list):
        raise BadRecord("receipt.transactions: expected an array")
    lines = tuple(transaction_line(tx) for tx in txs)
    refunds = receipt_refunds(receipt, receipt_id)
    shipments = receipt.get("shipments") or []
    if not isinstance(shipments, list):
        raise BadRecord("receipt.shipments: expected an array")
    line_ship = [optional_epoch(tx.get("shipped_timestamp")) for tx in txs]
    shipped_lines = [t for t in line_ship if t is not None]
    notified = [t for t in (optional_epoch(s.get("shipment_notification_timestamp"))
                            for s in shipments if isinstance(s, dict)) if t is not None]
    shipped_at = min(shipped_lines) if shipped_lines else (min(notified) if notified else None)
    shipped = receipt.get("is_shipped") is True or bool(shipments) or (bool(txs) and len(shipped_lines) == len(txs))
    refunded = sum((r.amount for r in refunds), Decimal("0"))
    status = receipt_status(receipt, total, refunded, shipped, bool(shipped_lines))
    modified = max([updated, *(r.created_at for r in refunds), *shipped_lines, *notified])
    return OrderRecord(
        external_id=str(receipt_id),
        order_number=str(receipt_id),
        status=status,
        channel_status=str(receipt["status"]),
        placed_at=placed,
        modified_at=modified,
        currency=currency,
        subtotal=subtotal,
        shipping=money_or_zero(receipt, "total_shipping_cost", what) + money_or_zero(receipt, "gift_wrap_price", what),
        tax=money_or_zero(receipt, "total_tax_cost", what) + money_or_zero(receipt, "total_vat_cost", what),
        discount=money_or_zero(receipt, "discount_amt", what),
        total=total,
        lines=lines,
        refunds=refunds,
        shipped_at=shipped_at,
        cancelled_at=updated if status is OrderStatus.CANCELLED else None,
        fulfillment=", ".join(sorted({str(s.get("carrier_name")) for s in shipments
                                      if isinstance(s, dict) and s.get("carrier_name")})),
    )


# -- listings ----------------------------------------------------------------------


def listing_to_records(listing: Mapping[str, Any]) -> list[ListingRecord]:
    """A ShopListing fetched with ``includes=Inventory``: one record per live product."""
    what = "listing"
    listing_id = integer(listing, "listing_id", what)
    title = field(listing, "title", what)
    inventory = field(listing, "inventory", what)
    products = field(inventory, "products", "listing.inventory")
    if not isinstance(products, list):
        raise BadRecord("listing.inventory.products: expected an array")
    modified = optional_epoch(listing.get("updated_timestamp") or listing.get("last_modified_timestamp"))
    out = []
    for product in products:
        if not isinstance(product, dict):
            raise BadRecord("listing.inventory.products[]: expected an object")
        if product.get("is_deleted"):
            continue
        values = product.get("property_values") or []
        if not isinstance(values, list):
            raise BadRecord("listing.inventory.products[].property_values: expected an array")
        offerings = [o for o in product.get("offerings") or [] if isinstance(o, dict) and not o.get("is_deleted")]
        price: Decimal | None = None
        currency = ""
        quantity: int | None = None
        if offerings:
            price, currency = money(offerings[0], "price", "listing.offering")
            quantity = integer(offerings[0], "quantity", "listing.offering")
        options = tuple(
            (str(v.get("property_name") or v.get("property_id") or ""), ", ".join(str(x) for x in v.get("values") or []))
            for v in values if isinstance(v, dict)
        )
        out.append(ListingRecord(
            external_id=str(listing_id),
            variation_external_id=variation_id(integer(product, "product_id", "listing.product"), bool(values)),
            sku=str(product.get("sku") or ""),
            title=str(title),
            state=str(listing.get("state") or ""),
            price=price,
            currency=currency,
            quantity=quantity,
            modified_at=modified,
            options=options,
        ))
    return out
