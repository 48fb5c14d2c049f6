"""What a complete, correct pull of the simulated Shopify shop must produce,
computed from the :class:`SimShop` itself, not from the GraphQL rendering
and not with the channel's mapping code."""

from __future__ import annotations

from datetime import datetime

from makersync.plugins import (
    FeeKind,
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
)
from makersync.plugins.simshop import SimOrder, SimShop

from .simrender import FEE_TYPES, OPTION_NAME, product_status

FEE_KIND = {"transaction": FeeKind.TRANSACTION, "processing": FeeKind.PROCESSING}


def truth(shop: SimShop, names: dict[int, str], horizon: datetime | None
          ) -> tuple[list[OrderRecord], list[ListingRecord], list[FeeRecord]]:
    visible = [o for o in shop.orders if horizon is None or o.placed_at >= horizon]
    orders = [_order(o, names[o.order_id]) for o in visible]
    listings = [
        ListingRecord(
            external_id=str(li.listing_id), variation_external_id=str(v.variation_id), sku=v.sku,
            title=li.title, state=product_status(li).lower(), price=v.price, currency=shop.currency,
            modified_at=li.modified_at, options=((OPTION_NAME, v.option),) if li.has_variations else (),
        )
        for li in shop.listings for v in li.variations
    ]
    paid = {o.order_id for o in visible if o.paid}
    fees = [
        FeeRecord(
            external_id=str(f.fee_id), kind=FEE_KIND.get(f.kind, FeeKind.OTHER), channel_kind=FEE_TYPES[f.kind][0],
            amount=f.amount, currency=shop.currency, occurred_at=f.occurred_at,
            order_external_id=str(f.order_id), description=f.description, channel_amount=f.amount,
        )
        for f in shop.fees if f.order_id in paid and f.kind in FEE_TYPES
    ]
    return orders, listings, fees


def _order(o: SimOrder, name: str) -> OrderRecord:
    financial = "PENDING" if not o.paid else (
        "REFUNDED" if o.refunded >= o.total else "PARTIALLY_REFUNDED" if o.refunded > 0 else "PAID")
    fulfillment = "FULFILLED" if o.shipped_at else "UNFULFILLED"
    if o.cancelled_at:
        status = OrderStatus.CANCELLED
    elif o.refunds and o.refunded >= o.total:
        status = OrderStatus.REFUNDED
    elif o.refunds:
        status = OrderStatus.PARTIALLY_REFUNDED
    elif o.shipped_at:
        status = OrderStatus.SHIPPED
    else:
        status = OrderStatus.PAID if o.paid else OrderStatus.PENDING
    words = (["CANCELLED"] if o.cancelled_at else []) + [financial, fulfillment]
    return OrderRecord(
        external_id=str(o.order_id), order_number=name, status=status, channel_status="/".join(words),
        placed_at=o.placed_at, modified_at=o.modified_at, currency=o.currency,
        subtotal=o.subtotal, shipping=o.shipping, tax=o.tax, discount=o.discount, total=o.total,
        lines=tuple(OrderLine(str(ln.line_id), str(ln.listing_id), str(ln.variation_id), ln.sku, ln.title,
                              ln.quantity, ln.unit_price) for ln in o.lines),
        refunds=tuple(RefundRecord(str(r.refund_id), r.amount, r.created_at, r.reason) for r in o.refunds),
        shipped_at=o.shipped_at, cancelled_at=o.cancelled_at,
    )
