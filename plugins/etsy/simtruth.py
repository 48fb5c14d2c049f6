"""The Etsy simulator's ground truth: every record a correct pull must give,
computed from the SimShop and what the simulated API lets a channel know
(whole seconds; one reference per ledger entry; update_timestamp as the API
shows it) — never through the channel's mapping code."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from makersync.plugins import (
    FeeKind,
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
)
from makersync.plugins.simshop import SimFee, SimListing, SimOrder

from .simdata import (
    LEDGER_TYPES,
    EtsyShopData,
    offering_quantity,
    property_name,
    status_word,
    ts,
    whole,
)


def order_truth(data: EtsyShopData, order: SimOrder) -> OrderRecord:
    if order.cancelled_at is not None:
        status = OrderStatus.CANCELLED
    elif order.refunded > 0 and order.refunded >= order.total:
        status = OrderStatus.REFUNDED
    elif order.refunded > 0:
        status = OrderStatus.PARTIALLY_REFUNDED
    elif order.shipped_at is not None:
        status = OrderStatus.SHIPPED
    else:
        status = OrderStatus.PAID if order.paid else OrderStatus.PENDING
    seen: dict[datetime, int] = {}
    refunds = []
    for r in order.refunds:
        at = whole(r.created_at)
        n = seen[at] = seen.get(at, -1) + 1
        refunds.append(RefundRecord(f"{order.order_id}-{ts(at)}-{n}", r.amount, at, r.reason))
    api_modified = whole(data.modified(order))
    changed = [api_modified, *(r.created_at for r in refunds)]
    if order.shipped_at is not None:
        changed.append(whole(order.shipped_at))
    lines = []
    for line in order.lines:
        listing = data.shop.listing(line.listing_id)
        lines.append(OrderLine(str(line.line_id), str(line.listing_id),
                               str(line.variation_id) if listing.has_variations else "", line.sku,
                               line.title, line.quantity, line.unit_price))
    return OrderRecord(
        external_id=str(order.order_id), order_number=order.number, status=status,
        channel_status=status_word(order), placed_at=whole(order.placed_at), modified_at=max(changed),
        currency=order.currency, subtotal=order.subtotal, shipping=order.shipping, tax=order.tax,
        discount=order.discount, total=order.total, lines=tuple(lines), refunds=tuple(refunds),
        shipped_at=whole(order.shipped_at) if order.shipped_at else None,
        cancelled_at=api_modified if order.cancelled_at is not None else None,
        fulfillment="usps" if order.shipped_at else "",
    )

def listing_truth(data: EtsyShopData, listing: SimListing) -> list[ListingRecord]:
    return [
        ListingRecord(
            external_id=str(listing.listing_id),
            variation_external_id=str(v.variation_id) if listing.has_variations else "",
            sku=v.sku, title=listing.title, state=listing.state, price=v.price, currency=data.shop.currency,
            quantity=offering_quantity(listing, v.variation_id), modified_at=whole(listing.modified_at),
            options=((property_name(listing), v.option),) if listing.has_variations else (),
        )
        for v in listing.variations
    ]

def fee_truth(data: EtsyShopData, fee: SimFee) -> FeeRecord:
    ref_type, ref_id = data.fee_ref(fee)
    return FeeRecord(
        external_id=str(fee.fee_id), kind=LEDGER_TYPES.get(fee.kind, (fee.kind, FeeKind.OTHER))[1],
        channel_kind=data.fee_type(fee), amount=fee.amount, currency=data.shop.currency,
        occurred_at=whole(fee.occurred_at), order_external_id=ref_id if ref_type == "receipt" else "",
        listing_external_id=ref_id if ref_type == "listing" else "", description=fee.description,
        channel_amount=Decimal(0) - fee.amount,
    )

