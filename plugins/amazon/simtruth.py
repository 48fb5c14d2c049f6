"""The ground truth of the Amazon simulator: the records a complete, correct
pull must produce, computed straight from the SimShop and the simulator's own
rules (:mod:`.simdata`), never through the plugin's mapping."""

from __future__ import annotations

from datetime import datetime, timedelta

from makersync.plugins import (
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
)
from makersync.plugins.simshop import SimShop

from .simdata import (
    ZERO,
    SimTxn,
    _products,
    amazon_order_id,
    api_modified,
    asin,
    channel_status,
    is_mfn,
    product_name,
    quantity,
    sec,
    seller_sku,
)


def truth_orders(shop: SimShop, txns: list[SimTxn], now: datetime, recent: bool = False) -> list[OrderRecord]:
    """Orders as a pull reads them now; ``recent`` adds those placed in the last
    two minutes, which no ``createdBefore`` reaches yet."""
    visible_refunds: dict[int, list[RefundRecord]] = {}
    for t in txns:
        if t.kind == "Refund" and t.order is not None and t.visible_at <= now and t.refund is not None:
            visible_refunds.setdefault(t.order.order_id, []).append(RefundRecord(t.txn_id, t.refund, t.posted))
    out = []
    for o in shop.orders:
        if o.placed_at > now - timedelta(minutes=2) and not recent:
            continue  # no createdBefore can reach it yet
        pending = not o.paid
        status_word = channel_status(o)
        refunds = tuple(sorted(visible_refunds.get(o.order_id, []), key=lambda r: (r.created_at, r.external_id)))
        refunded = sum((r.amount for r in refunds), ZERO)
        total = ZERO if pending else o.total
        if status_word == "CANCELLED":
            status = OrderStatus.CANCELLED
        elif refunded > ZERO:
            status = OrderStatus.REFUNDED if refunded >= total else OrderStatus.PARTIALLY_REFUNDED
        else:
            status = {"PENDING": OrderStatus.PENDING, "SHIPPED": OrderStatus.SHIPPED,
                      "UNSHIPPED": OrderStatus.PAID}[status_word]
        lines = []
        for ln, (a, sku, qty, title) in zip(o.lines, _products(shop, o), strict=True):
            lines.append(OrderLine(f"{ln.line_id:014d}", a, sku, sku, title, qty, ZERO if pending else ln.unit_price))
        updated = sec(api_modified(o))
        out.append(OrderRecord(
            external_id=amazon_order_id(o.order_id), order_number=amazon_order_id(o.order_id), status=status,
            channel_status=status_word, placed_at=sec(o.placed_at),
            modified_at=max([updated, *(r.created_at for r in refunds)]), currency=o.currency,
            subtotal=ZERO if pending else o.subtotal, shipping=ZERO if pending else o.shipping,
            tax=ZERO if pending else o.tax, discount=ZERO if pending else o.discount, total=total,
            lines=tuple(lines), refunds=refunds,
            shipped_at=sec(o.shipped_at) if (is_mfn(o) and o.shipped_at and status_word != "CANCELLED") else None,
            cancelled_at=updated if status_word == "CANCELLED" else None,
            fulfillment="MFN" if is_mfn(o) else "FBA",
        ))
    return out


def truth_listings(shop: SimShop) -> list[ListingRecord]:
    out = []
    for listing in shop.listings:
        for var in listing.variations:
            q = quantity(listing, var)
            sku = seller_sku(var.sku, var.variation_id)
            out.append(ListingRecord(asin(var.variation_id), sku, sku, product_name(listing, var),
                                     state="active" if q else "inactive", quantity=q,
                                     modified_at=sec(listing.modified_at)))
    return out


def truth_fees(txns: list[SimTxn], now: datetime, currency: str) -> list[FeeRecord]:
    out = []
    for t in txns:
        if t.visible_at > now:
            continue
        distinct = {(p[0], p[1]) for p in t.products}
        listing, variation = distinct.pop() if len(distinct) == 1 else ("", "")
        for group, name, amount, kind in t.fees:
            out.append(FeeRecord(
                external_id=f"{t.txn_id}/{t.fee_path(group, name)}", kind=kind, channel_kind=name, amount=-amount,
                currency=currency, occurred_at=t.posted,
                order_external_id=amazon_order_id(t.order.order_id) if t.order else "",
                listing_external_id=listing, variation_external_id=variation, description=t.description,
                channel_amount=amount,
            ))
    return out


