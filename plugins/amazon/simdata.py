"""How the Amazon simulator shows a SimShop: ids, Orders v2026-01-01 orders,
Finances v2024-06-19 transactions, FBA inventory summaries, and the ground
truth computed straight from the shop (never through the plugin's mapping).

Rules of this simulated Amazon (the truth follows them):
* order ids in the 3-7-7 format, derived from the SimShop order id; every
  third order is merchant-fulfilled (MFN), the rest FBA;
* an order's ``lastUpdatedTime`` moves on creation, shipping and cancelling,
  never on a refund (refunds exist only in Finances);
* pending (unpaid) orders carry no prices; MFN orders show a package with
  its ``shipTime``, FBA orders none (so FBA orders have no shipped date);
* a Shipment transaction (sale and fees) posts when an order ships, a Refund
  transaction when it is refunded; ads, label and inbound-placement fees post
  on their own; a transaction posted after the simulator started becomes
  visible 5 min to 48 h after its ``postedDate`` (a deterministic lag per
  transaction); the generated history is settled (visible 5 min after posting),
  so the truth does not move while a test's clock runs.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from makersync.plugins import (
    FeeKind,
)
from makersync.plugins.simshop import SimListing, SimOrder, SimShop, SimVariation

MARKETPLACE = "ATVPDKIKX0DER"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MIN_LAG_S = 300
MAX_LAG_S = 48 * 3600 - 1
B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _b36(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out


def amazon_order_id(order_id: int) -> str:
    return f"114-{order_id % 10**7:07d}-{(order_id * 2654435761) % 10**7:07d}"


def asin(variation_id: int) -> str:
    return "B0" + _b36(variation_id * 7919 + 104_729, 8)


def fnsku(variation_id: int) -> str:
    return "X00" + _b36(variation_id * 31 + 17, 7)


def seller_sku(sku: str, variation_id: int) -> str:
    """The seller's SKU, or the one Amazon generated where the maker gave none."""
    if sku:
        return sku
    code = _b36(variation_id * 48_271, 10)
    return f"{code[:2]}-{code[2:6]}-{code[6:]}"


def product_name(listing: SimListing, var: SimVariation) -> str:
    return f"{listing.title} - {var.option}" if var.option else listing.title


def is_mfn(order: SimOrder) -> bool:
    return order.order_id % 3 == 0


def sec(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def msec(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def z(when: datetime) -> str:
    return sec(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def zms(when: datetime) -> str:
    return msec(when).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def api_modified(order: SimOrder) -> datetime:
    """What the Orders API shows as lastUpdatedTime: refunds do not move it."""
    return max(t for t in (order.placed_at, order.shipped_at, order.cancelled_at) if t is not None)


def channel_status(order: SimOrder) -> str:
    if not order.paid:
        return "PENDING"
    if order.cancelled_at is not None:
        return "CANCELLED"
    return "SHIPPED" if order.shipped_at is not None else "UNSHIPPED"


def variation_of(shop: SimShop, listing_id: int, variation_id: int) -> tuple[SimListing, SimVariation]:
    listing = shop.listing(listing_id)
    for var in listing.variations:
        if var.variation_id == variation_id:
            return listing, var
    raise KeyError(variation_id)


def quantity(listing: SimListing, var: SimVariation) -> int:
    return (var.variation_id * 7) % 40 if listing.state == "active" else 0


def txn_id(key: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).decode().rstrip("=")[:43]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class SimTxn:
    """One Finances transaction of the simulated seller."""

    txn_id: str
    kind: str
    description: str
    posted: datetime
    order: SimOrder | None
    products: list[tuple[str, str, int, str]]  # (asin, sku, quantity, title)
    sales: list[tuple[str, Decimal]] = field(default_factory=list)
    fees: list[tuple[str, str, Decimal, FeeKind]] = field(default_factory=list)  # (group, name, signed, kind)
    refund: Decimal | None = None

    settled: bool = False  # posted before the simulator started: history is settled

    @property
    def visible_at(self) -> datetime:
        if self.settled:
            return self.posted + timedelta(seconds=MIN_LAG_S)
        return self.posted + timedelta(seconds=MIN_LAG_S + zlib.crc32(self.txn_id.encode()) % (MAX_LAG_S - MIN_LAG_S))

    @property
    def total(self) -> Decimal:
        return sum((a for _, a in self.sales), ZERO) + sum((f[2] for f in self.fees), ZERO)

    def fee_path(self, group: str, name: str) -> str:
        return f"Expenses/{group}/{name}" if group else f"Expenses/{name}"


def _products(shop: SimShop, order: SimOrder) -> list[tuple[str, str, int, str]]:
    out = []
    for ln in order.lines:
        listing, var = variation_of(shop, ln.listing_id, ln.variation_id)
        out.append((asin(var.variation_id), seller_sku(ln.sku, var.variation_id), ln.quantity,
                    product_name(listing, var)))
    return out


def build_transactions(shop: SimShop, settled_before: datetime) -> list[SimTxn]:
    """Every transaction the shop has posted, oldest first. Those posted before
    ``settled_before`` (the shop's generated history) are visible 5 minutes after
    posting; later ones after their own lag of up to 48 hours."""
    txns: list[SimTxn] = []
    by_order: dict[int, dict[str, Decimal]] = {}
    for fee in shop.fees:
        if fee.order_id is not None:
            by_order.setdefault(fee.order_id, {})[fee.kind] = fee.amount
        if fee.kind == "listing" and fee.listing_id is not None:
            listing = shop.listing(fee.listing_id)
            var = listing.variations[0]
            t = SimTxn(txn_id(f"svc:{fee.fee_id}"), "ServiceFee", "FBA Inbound Placement Service Fee",
                       msec(fee.occurred_at), None,
                       [(asin(var.variation_id), seller_sku(var.sku, var.variation_id), 0, product_name(listing, var))])
            t.fees.append(("", "FBAInboundPlacementServiceFee", -fee.amount, FeeKind.OTHER))
            txns.append(t)
    for order in shop.orders:
        fees = by_order.get(order.order_id, {})
        products = _products(shop, order)
        mfn = is_mfn(order)
        if "advertising" in fees:
            t = SimTxn(txn_id(f"ads:{order.order_id}"), "ProductAdsPayment", "Sponsored Products Charges",
                       msec(order.placed_at), None, products[:1])
            t.fees.append(("", "ProductAdsPayment", -fees["advertising"], FeeKind.ADVERTISING))
            txns.append(t)
        if not order.paid or order.cancelled_at is not None or order.shipped_at is None:
            commission = ZERO
        else:
            commission = fees.get("transaction", ZERO)
            t = SimTxn(txn_id(f"shp:{order.order_id}"), "Shipment", "Order Payment", msec(order.shipped_at),
                       order, products)
            t.sales = [("ProductCharges", order.subtotal), ("Promotion", -order.discount),
                       ("Shipping", order.shipping), ("Tax", order.tax)]
            t.fees.append(("AmazonFees", "Commission", -commission, FeeKind.TRANSACTION))
            second = ("FixedClosingFee", FeeKind.OTHER) if mfn else ("FBAPerUnitFulfillmentFee", FeeKind.FULFILLMENT)
            t.fees.append(("AmazonFees", second[0], -fees.get("processing", ZERO), second[1]))
            txns.append(t)
            if mfn and "shipping_label" in fees:
                lbl = SimTxn(txn_id(f"lbl:{order.order_id}"), "ShippingServices", "Shipping Label Purchase",
                             msec(order.shipped_at), order, products)
                lbl.fees.append(("", "ShippingLabelPurchase", -fees["shipping_label"], FeeKind.SHIPPING_LABEL))
                txns.append(lbl)
        for refund in order.refunds:
            t = SimTxn(txn_id(f"rfd:{refund.refund_id}"), "Refund", "Refund Order", msec(refund.created_at),
                       order, products, refund=refund.amount)
            if refund.amount == order.total and order.total > ZERO:
                t.sales = [("ProductCharges", -order.subtotal), ("Promotion", order.discount),
                           ("Shipping", -order.shipping), ("Tax", -order.tax)]
            else:
                t.sales = [("ProductCharges", -refund.amount)]
            if commission and order.shipped_at is not None and order.shipped_at <= refund.created_at:
                back = _money(commission * refund.amount / order.total)
                admin = min(Decimal("5.00"), _money(back * Decimal("0.20")))
                t.fees.append(("AmazonFees", "Commission", back, FeeKind.TRANSACTION))
                t.fees.append(("AmazonFees", "RefundCommission", -admin, FeeKind.TRANSACTION))
            txns.append(t)
    for t in txns:
        t.settled = t.posted < settled_before
        t.sales = [(n, a) for n, a in t.sales if a != ZERO]
        t.fees = [f for f in t.fees if f[2] != ZERO]
    txns.sort(key=lambda t: (t.posted, t.txn_id))
    return txns


def money_json(value: Decimal, currency: str) -> dict[str, Any]:
    """Orders money: the amount is a decimal string."""
    return {"amount": str(value), "currencyCode": currency}


def finance_json(value: Decimal, currency: str) -> dict[str, Any]:
    """Finances money: the amount is a JSON number."""
    return {"currencyCode": currency, "currencyAmount": float(value)}
