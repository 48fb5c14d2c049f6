"""The neutral :class:`SimShop` rendered as Shopify Admin GraphQL objects.

Plain dicts keyed by GraphQL field names (``__typename`` for the ``Node``
interface); the resolvers of :mod:`.simgraph` page the private ``_lines``,
``_refunds``, ``_fulfillments``, ``_transactions`` and ``_rlis`` lists.

Shopify's ways, as rendered here:

* ids are ``gid://shopify/<Type>/<n>``; times ISO 8601 with the shop's offset
  (whole seconds); money ``MoneyBag {shopMoney, presentmentMoney}`` of
  decimal strings;
* a refund of the whole order, as the order's only refund, is a *return*: every
  line comes back (``restockType: RETURN``), which moves the ``current*``
  totals; any other refund is an amount with no line items;
* only payment fees live in the Admin API (``OrderTransaction.fees`` on the
  order's sale); shipping labels and listing fees are on Shopify's bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from makersync.plugins.simshop import CENT, SimListing, SimOrder, SimVariation, money

OPTION_NAME = "Style"
PRODUCT_STATUS = {"active": "ACTIVE", "sold_out": "ACTIVE", "draft": "DRAFT"}
FEE_TYPES = {
    "transaction": ("third_party_transaction_fee", "0.065", "0.00"),
    "processing": ("payment_processing_fee", "0.03", "0.25"),
    "advertising": ("shop_promotion_fee", "0", "0.00"),
}
"""SimShop fee kind -> (TransactionFee.type, rate, flat fee)."""


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def stamp(when: datetime | None, tz: tzinfo) -> str | None:
    return None if when is None else when.astimezone(tz).isoformat(timespec="seconds")


def amount_text(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def bag(value: Decimal, currency: str) -> dict[str, Any]:
    shop = {"amount": amount_text(value), "currencyCode": currency}
    return {"shopMoney": shop, "presentmentMoney": dict(shop)}


def product_status(listing: SimListing) -> str:
    return PRODUCT_STATUS.get(listing.state, "ARCHIVED")


def is_return(order: SimOrder) -> bool:
    """Whether the order's refund took every line back (see module doc)."""
    return len(order.refunds) == 1 and order.refunds[0].amount == order.total


def financial_status(order: SimOrder) -> str:
    if not order.paid:
        return "PENDING"
    if order.refunded >= order.total:
        return "REFUNDED"
    return "PARTIALLY_REFUNDED" if order.refunded > 0 else "PAID"


def allocations(order: SimOrder) -> list[tuple[Decimal, Decimal]]:
    """Each line's share of the order's discount and tax, to the cent; the
    last line takes the remainder so the shares add up exactly."""
    out, disc_left, tax_left = [], order.discount, order.tax
    subtotal = order.subtotal
    for n, line in enumerate(order.lines):
        if n == len(order.lines) - 1:
            out.append((disc_left, tax_left))
            break
        share = line.unit_price * line.quantity / subtotal if subtotal else Decimal(0)
        disc, tax = money(order.discount * share), money(order.tax * share)
        disc_left, tax_left = disc_left - disc, tax_left - tax
        out.append((disc, tax))
    return out


class Renderer:
    """Renders one simulator's shop; ``sim`` gives the shop, the time zone,
    order names and the lookups."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim

    @property
    def currency(self) -> str:
        return str(self.sim.shop.currency)

    def time(self, when: datetime | None) -> str | None:
        return stamp(when, self.sim.tz)

    def product(self, listing: SimListing) -> dict[str, Any]:
        return {"__typename": "Product", "id": gid("Product", listing.listing_id),
                "legacyResourceId": str(listing.listing_id), "title": listing.title,
                "status": product_status(listing), "updatedAt": self.time(listing.modified_at)}

    def variant(self, listing: SimListing, var: SimVariation) -> dict[str, Any]:
        options = ([{"name": OPTION_NAME, "value": var.option}] if listing.has_variations
                   else [{"name": "Title", "value": "Default Title"}])
        return {"__typename": "ProductVariant", "id": gid("ProductVariant", var.variation_id),
                "legacyResourceId": str(var.variation_id), "sku": var.sku or None,
                "title": var.option or "Default Title", "price": amount_text(var.price),
                "updatedAt": self.time(listing.modified_at), "selectedOptions": options,
                "product": self.product(listing)}

    def order(self, order: SimOrder) -> dict[str, Any]:
        cur, returned = self.currency, is_return(order)
        lines = [self._line(order, ln, returned) for ln in order.lines]
        net = Decimal(0) if returned else order.subtotal - order.discount
        tax = Decimal(0) if returned else order.tax
        discount = Decimal(0) if returned else order.discount
        node = {
            "__typename": "Order", "id": gid("Order", order.order_id),
            "legacyResourceId": str(order.order_id), "name": self.sim.order_name(order),
            "createdAt": self.time(order.placed_at), "updatedAt": self.time(order.modified_at),
            "processedAt": self.time(order.placed_at), "cancelledAt": self.time(order.cancelled_at),
            "cancelReason": "CUSTOMER" if order.cancelled_at else None,
            "displayFinancialStatus": financial_status(order),
            "displayFulfillmentStatus": "FULFILLED" if order.shipped_at else "UNFULFILLED",
            "currencyCode": cur,
            "currentSubtotalPriceSet": bag(net, cur),
            "currentTotalDiscountsSet": bag(discount, cur),
            "totalShippingPriceSet": bag(order.shipping, cur),
            "currentTotalTaxSet": bag(tax, cur),
            "currentTotalPriceSet": bag(net + order.shipping + tax, cur),
            "_lines": lines,
            "_refunds": [self._refund(order, r, lines if returned else None) for r in order.refunds],
            "_fulfillments": ([{"__typename": "Fulfillment", "id": gid("Fulfillment", order.order_id * 10 + 3),
                                "createdAt": self.time(order.shipped_at), "status": "SUCCESS"}]
                              if order.shipped_at else []),
            "_transactions": self._transactions(order),
        }
        if order.malformed:
            node["currentTotalPriceSet"]["shopMoney"]["amount"] = "N/A"
        return node

    def _line(self, order: SimOrder, line: Any, returned: bool) -> dict[str, Any]:
        found = self.sim.variation(line.variation_id)
        listing, var = found if found else (None, None)
        return {
            "__typename": "LineItem", "id": gid("LineItem", line.line_id),
            "name": f"{line.title} - {var.option}" if var is not None and var.option else line.title,
            "title": line.title, "sku": line.sku or None, "quantity": line.quantity,
            "currentQuantity": 0 if returned else line.quantity,
            "variant": self.variant(listing, var) if listing is not None else None,
            "product": self.product(listing) if listing is not None else None,
            "originalUnitPriceSet": bag(line.unit_price, self.currency),
        }

    def _refund(self, order: SimOrder, refund: Any, lines: list[dict[str, Any]] | None) -> dict[str, Any]:
        rlis = []
        if lines is not None:
            for line, item, (disc, tax) in zip(order.lines, lines, allocations(order), strict=True):
                rlis.append({
                    "quantity": line.quantity, "restockType": "RETURN", "restocked": True, "lineItem": item,
                    "priceSet": bag(line.unit_price, self.currency),
                    "subtotalSet": bag(line.unit_price * line.quantity - disc, self.currency),
                    "totalTaxSet": bag(tax, self.currency),
                })
        return {"__typename": "Refund", "id": gid("Refund", refund.refund_id),
                "legacyResourceId": str(refund.refund_id), "createdAt": self.time(refund.created_at),
                "note": refund.reason or None, "totalRefundedSet": bag(refund.amount, self.currency),
                "_rlis": rlis}

    def _transactions(self, order: SimOrder) -> list[dict[str, Any]]:
        cur = self.currency
        sale = {"__typename": "OrderTransaction", "id": gid("OrderTransaction", order.order_id * 10 + 1),
                "kind": "SALE", "status": "SUCCESS" if order.paid else "PENDING", "gateway": "shopify_payments",
                "processedAt": self.time(order.placed_at), "createdAt": self.time(order.placed_at),
                "test": False, "amountSet": bag(order.total, cur),
                "fees": [self.fee(f) for f in self.sim.order_fees(order)] if order.paid else []}
        refunds: list[dict[str, Any]] = [{"__typename": "OrderTransaction", "id": gid("OrderTransaction", r.refund_id * 10 + 2),
                    "kind": "REFUND", "status": "SUCCESS", "gateway": "shopify_payments",
                    "processedAt": self.time(r.created_at), "createdAt": self.time(r.created_at),
                    "test": False, "amountSet": bag(r.amount, cur), "fees": []} for r in order.refunds]
        return [sale, *refunds]

    def fee(self, fee: Any) -> dict[str, Any]:
        kind, rate, flat = FEE_TYPES[fee.kind]
        zero = {"amount": "0.00", "currencyCode": self.currency}
        return {"__typename": "TransactionFee", "id": gid("TransactionFee", fee.fee_id), "type": kind,
                "amount": {"amount": amount_text(fee.amount), "currencyCode": self.currency},
                "flatFee": {"amount": flat, "currencyCode": self.currency}, "flatFeeName": None,
                "rate": rate, "rateName": fee.description or None, "taxAmount": zero}


def shop_node(sim: Any) -> Mapping[str, Any]:
    return {"__typename": "Shop", "id": gid("Shop", sim.shop_id), "name": sim.shop_name,
            "currencyCode": sim.shop.currency, "ianaTimezone": sim.tz_name, "myshopifyDomain": sim.shop_domain}
