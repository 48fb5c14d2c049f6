"""Pure functions from Shopify Admin GraphQL nodes to makersync records.

Money is read from ``MoneyBag.shopMoney`` (decimal strings, exact). Times come
as ISO 8601 with the shop's offset (or ``Z``) and leave as aware UTC.

Order totals: Shopify's ``current*`` totals reflect edits *and returns* (line
items taken back by a refund). The books keep refunds apart from the order's
value (``total`` is what the buyer paid, ``refunds`` what went back), so the
lines a refund removed are added back: subtotal + gross of the returned lines,
discount + their discount, tax + their tax, total + their net and tax. An edit
(no refund) changes the totals and stays changed.

Malformed input raises :class:`BadRecord` naming the field (R15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from makersync.plugins import (
    BadRecord,
    FeeKind,
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
    Window,
    utc,
)

ZERO = Decimal("0")

FINANCIAL_STATUSES = frozenset({
    "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "VOIDED", "PAID",
    "REFUNDED", "EXPIRED",
})
FEE_KINDS: dict[str, FeeKind] = {
    "transaction_fee": FeeKind.TRANSACTION,
    "third_party_transaction_fee": FeeKind.TRANSACTION,
    "payment_fee": FeeKind.PROCESSING,
    "payment_processing_fee": FeeKind.PROCESSING,
    "processing_fee": FeeKind.PROCESSING,
    "credit_card_fee": FeeKind.PROCESSING,
    "shipping_label_fee": FeeKind.SHIPPING_LABEL,
    "tax": FeeKind.TAX,
}
"""``TransactionFee.type`` names the books know (R12); any other is OTHER."""
FAILED_FULFILLMENTS = frozenset({"CANCELLED", "ERROR", "FAILURE"})


def gid_id(gid: Any, field: str = "id") -> str:
    """``gid://shopify/Order/123`` -> ``"123"``."""
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/"):
        raise BadRecord(f"{field}: not a Shopify global id: {gid!r}")
    tail = gid.rsplit("/", 1)[-1].split("?", 1)[0]
    if not tail.isdigit():
        raise BadRecord(f"{field}: not a Shopify global id: {gid!r}")
    return tail


def gid_type(gid: str) -> str:
    """``gid://shopify/Order/123`` -> ``"Order"``."""
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 else ""


def decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRecord(f"{field}: not a decimal string: {value!r}")
    try:
        out = Decimal(str(value))
    except InvalidOperation as exc:
        raise BadRecord(f"{field}: not a decimal string: {value!r}") from exc
    if not out.is_finite():
        raise BadRecord(f"{field}: not a finite amount: {value!r}")
    return out


def money(bag: Any, field: str) -> tuple[Decimal, str]:
    """``MoneyBag`` -> (shop-currency amount, currency code)."""
    try:
        shop = bag["shopMoney"]
        return decimal(shop["amount"], field), str(shop["currencyCode"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadRecord(f"{field}: missing shopMoney amount") from exc


def money_v2(value: Any, field: str) -> tuple[Decimal, str]:
    try:
        return decimal(value["amount"], field), str(value["currencyCode"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadRecord(f"{field}: missing amount") from exc


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise BadRecord(f"{field}: not an ISO 8601 time: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRecord(f"{field}: not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise BadRecord(f"{field}: time without offset: {value!r}")
    return utc(parsed)


def _opt_time(value: Any, field: str) -> datetime | None:
    return None if value is None else parse_time(value, field)


def _edges(connection: Any, field: str) -> list[dict[str, Any]]:
    try:
        return [edge["node"] for edge in connection["edges"]]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadRecord(f"{field}: not a connection") from exc


def order_status(financial: str | None, fulfillment: str | None, cancelled: bool) -> OrderStatus:
    """Shopify's display statuses -> :class:`OrderStatus` (later members win)."""
    if financial is not None and financial not in FINANCIAL_STATUSES:
        raise BadRecord(f"displayFinancialStatus: unknown status {financial!r}")
    if cancelled:
        return OrderStatus.CANCELLED
    if financial == "REFUNDED":
        return OrderStatus.REFUNDED
    if financial == "PARTIALLY_REFUNDED":
        return OrderStatus.PARTIALLY_REFUNDED
    if fulfillment == "FULFILLED":
        return OrderStatus.SHIPPED
    if fulfillment == "PARTIALLY_FULFILLED":
        return OrderStatus.PARTIALLY_SHIPPED
    if financial in ("PAID", "PARTIALLY_PAID"):
        return OrderStatus.PAID
    return OrderStatus.PENDING


def map_order(node: Mapping[str, Any]) -> OrderRecord:
    """One ``Order`` node (with its lines, refunds with ``refundLineItems``,
    and fulfillments) -> :class:`OrderRecord`."""
    try:
        return _map_order(node)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadRecord(f"order: missing or malformed field {exc}") from exc


def _map_order(node: Mapping[str, Any]) -> OrderRecord:
    order_id = gid_id(node.get("id"))
    subtotal_net, currency = money(node["currentSubtotalPriceSet"], "currentSubtotalPriceSet")
    discount, _ = money(node["currentTotalDiscountsSet"], "currentTotalDiscountsSet")
    shipping, _ = money(node["totalShippingPriceSet"], "totalShippingPriceSet")
    tax, _ = money(node["currentTotalTaxSet"], "currentTotalTaxSet")
    total, _ = money(node["currentTotalPriceSet"], "currentTotalPriceSet")
    lines = _edges(node["lineItems"], "lineItems")
    unit_prices = {li["id"]: money(li["originalUnitPriceSet"], "originalUnitPriceSet")[0] for li in lines}
    returned: dict[str, int] = {}
    refunds = []
    gross_back = net_back = tax_back = ZERO
    for refund in node.get("refunds") or ():
        amount, _ = money(refund["totalRefundedSet"], "refunds.totalRefundedSet")
        when = refund.get("createdAt") or node["updatedAt"]
        refunds.append(RefundRecord(gid_id(refund.get("id"), "refunds.id"), amount,
                                    parse_time(when, "refunds.createdAt"), refund.get("note") or ""))
        for rli in _edges(refund["refundLineItems"], "refundLineItems"):
            qty = _int(rli["quantity"], "refundLineItems.quantity")
            line_gid = rli["lineItem"]["id"]
            returned[line_gid] = returned.get(line_gid, 0) + qty
            if line_gid not in unit_prices:
                raise BadRecord(f"refundLineItems.lineItem: {line_gid!r} is not a line of the order")
            gross_back += unit_prices[line_gid] * qty
            net_back += money(rli["subtotalSet"], "refundLineItems.subtotalSet")[0]
            tax_back += money(rli["totalTaxSet"], "refundLineItems.totalTaxSet")[0]
    fulfilled = [
        parse_time(f["createdAt"], "fulfillments.createdAt")
        for f in node.get("fulfillments") or () if f.get("status") not in FAILED_FULFILLMENTS
    ]
    cancelled_at = _opt_time(node.get("cancelledAt"), "cancelledAt")
    financial = node.get("displayFinancialStatus")
    fulfillment = node.get("displayFulfillmentStatus")
    words = [w for w in ("CANCELLED" if cancelled_at else "", financial or "", fulfillment or "") if w]
    return OrderRecord(
        external_id=order_id,
        order_number=str(node["name"]),
        status=order_status(financial, fulfillment, cancelled_at is not None),
        channel_status="/".join(words),
        placed_at=parse_time(node["createdAt"], "createdAt"),
        modified_at=parse_time(node["updatedAt"], "updatedAt"),
        currency=currency,
        subtotal=subtotal_net + discount + gross_back,
        shipping=shipping,
        tax=tax + tax_back,
        discount=discount + gross_back - net_back,
        total=total + net_back + tax_back,
        lines=tuple(_map_line(li, unit_prices[li["id"]], returned.get(li["id"], 0)) for li in lines
                    if _line_quantity(li, returned.get(li["id"], 0)) > 0),
        refunds=tuple(refunds),
        shipped_at=min(fulfilled) if fulfilled else None,
        cancelled_at=cancelled_at,
    )


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord(f"{field}: not an integer: {value!r}")
    return value


def _line_quantity(li: Mapping[str, Any], returned: int) -> int:
    """The quantity after edits, before returns (what the buyer paid for)."""
    current = li.get("currentQuantity")
    if current is None:
        return _int(li["quantity"], "lineItems.quantity")
    return _int(current, "lineItems.currentQuantity") + returned


def _map_line(li: Mapping[str, Any], unit_price: Decimal, returned: int) -> OrderLine:
    variant = li.get("variant") or {}
    product = li.get("product") or {}
    return OrderLine(
        external_id=gid_id(li.get("id"), "lineItems.id"),
        listing_external_id=gid_id(product["id"], "lineItems.product.id") if product else "",
        variation_external_id=gid_id(variant["id"], "lineItems.variant.id") if variant else "",
        sku=li.get("sku") or variant.get("sku") or "",
        title=str(li["title"]),
        quantity=_line_quantity(li, returned),
        unit_price=unit_price,
    )


def map_variant(node: Mapping[str, Any], currency: str) -> ListingRecord:
    """One ``ProductVariant`` (with its product) -> :class:`ListingRecord`:
    the product's id is the listing, the variant's id the variation."""
    try:
        product = node["product"]
        options = tuple(
            (str(o["name"]), str(o["value"])) for o in node.get("selectedOptions") or ()
            if (o["name"], o["value"]) != ("Title", "Default Title")
        )
        return ListingRecord(
            external_id=gid_id(product.get("id"), "product.id"),
            variation_external_id=gid_id(node.get("id"), "id"),
            sku=node.get("sku") or "",
            title=str(product["title"]),
            state=str(product["status"]).lower(),
            price=decimal(node["price"], "price"),
            currency=currency,
            modified_at=max(parse_time(node["updatedAt"], "updatedAt"),
                            parse_time(product["updatedAt"], "product.updatedAt")),
            options=options,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadRecord(f"productVariant: missing or malformed field {exc}") from exc


def map_fees(order: Mapping[str, Any], transactions: Sequence[Mapping[str, Any]],
             window: Window | None = None) -> list[FeeRecord]:
    """The fees of an order's successful transactions (in ``window`` when
    given): one record per ``TransactionFee``, plus one for its tax."""
    try:
        order_id = gid_id(order.get("id"))
        out: list[FeeRecord] = []
        for txn in transactions:
            if txn.get("status") != "SUCCESS":
                continue
            when = parse_time(txn.get("processedAt") or txn["createdAt"], "transactions.processedAt")
            if window is not None and not window.contains(when):
                continue
            for fee in txn.get("fees") or ():
                out.extend(_map_fee(fee, order_id, when))
        return out
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BadRecord(f"transactions: missing or malformed field {exc}") from exc


def _map_fee(fee: Mapping[str, Any], order_id: str, when: datetime) -> list[FeeRecord]:
    fee_id = gid_id(fee.get("id"), "fees.id")
    kind_name = str(fee["type"])
    amount, currency = money_v2(fee["amount"], "fees.amount")
    description = fee.get("rateName") or fee.get("flatFeeName") or ""
    records = [FeeRecord(
        external_id=fee_id, kind=FEE_KINDS.get(kind_name.lower(), FeeKind.OTHER), channel_kind=kind_name,
        amount=amount, currency=currency, occurred_at=when, order_external_id=order_id,
        description=description, channel_amount=amount,
    )]
    tax = fee.get("taxAmount")
    if tax is not None:
        tax_amount, tax_currency = money_v2(tax, "fees.taxAmount")
        if tax_amount != ZERO:
            records.append(FeeRecord(
                external_id=f"{fee_id}-tax", kind=FeeKind.TAX, channel_kind=f"{kind_name}:tax",
                amount=tax_amount, currency=tax_currency, occurred_at=when, order_external_id=order_id,
                description=f"tax on {description or kind_name}", channel_amount=tax_amount,
            ))
    return records
