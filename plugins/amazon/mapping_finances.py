"""Pure functions from Finances v2024-06-19 transactions to refunds and fees (R11, R12, R15).

Money here is ``{currencyAmount: number, currencyCode}``; the number is read
through its JSON text, ``Decimal(str(x))``, so 12.34 stays exactly 12.34.
Fees are the nodes of a transaction's breakdown tree below ``Expenses``,
signed as Amazon signs them (a charge is negative) in ``channel_amount`` and
positive for the books in ``amount``; each is keyed by transactionId plus its
breakdown path, so a re-read of the trailing window finds the same fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from makersync.plugins import BadRecord, FeeKind, FeeRecord, RefundRecord

from .mapping import CENT, ZERO, _str, parse_time

# Amazon's fee names (breakdownType) -> the books' kinds (R12). Anything else
# is OTHER and keeps Amazon's name in channel_kind.
FEE_KINDS = {
    "Commission": FeeKind.TRANSACTION,
    "RefundCommission": FeeKind.TRANSACTION,
    "ShippingLabelPurchase": FeeKind.SHIPPING_LABEL,
    "ShippingLabelPurchaseReturn": FeeKind.SHIPPING_LABEL,
    "ProductAdsPayment": FeeKind.ADVERTISING,
    "CostOfAdvertising": FeeKind.ADVERTISING,
    "Subscription": FeeKind.SUBSCRIPTION,
}
# Grouping nodes of the Finances breakdown tree; a fee is a node below
# "Expenses" that is not one of these.
FEE_GROUPS = frozenset({"expenses", "amazonfees", "fbafees", "fees", "otherfees", "servicefees"})
REFUND_TYPES = frozenset({"Refund"})


def fee_kind(name: str) -> FeeKind:
    if name in FEE_KINDS:
        return FEE_KINDS[name]
    if name.startswith("FBA") and "Fulfillment" in name:
        return FeeKind.FULFILLMENT
    return FeeKind.OTHER


def finance_money(value: Any, field: str) -> tuple[Decimal, str]:
    """Finances money ``{currencyAmount: number, currencyCode}``; the number is read
    through its JSON text (``Decimal(str(x))``) so 12.34 stays 12.34 exactly."""
    if not isinstance(value, Mapping):
        raise BadRecord(f"{field}: expected {{currencyAmount, currencyCode}}, got {value!r}")
    raw = value.get("currencyAmount")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise BadRecord(f"{field}.currencyAmount: expected a number, got {raw!r}")
    amount = Decimal(str(raw))
    if not amount.is_finite():
        raise BadRecord(f"{field}.currencyAmount: not finite")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:  # 12.5 -> 12.50: written to the cent, never rounded
        amount = amount.quantize(CENT)
    code = value.get("currencyCode")
    if not isinstance(code, str) or not code:
        raise BadRecord(f"{field}.currencyCode: missing")
    return amount, code


# --- finances ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transaction:
    """What one listTransactions entry means for the books."""

    transaction_id: str
    transaction_type: str
    posted_at: datetime
    order_id: str
    refund: RefundRecord | None
    fees: tuple[FeeRecord, ...]


def _related(raw: Mapping[str, Any], name: str) -> str:
    for rel in raw.get("relatedIdentifiers") or ():
        if isinstance(rel, Mapping) and rel.get("relatedIdentifierName") == name:
            return str(rel.get("relatedIdentifierValue") or "")
    return ""


def _product(raw: Mapping[str, Any]) -> tuple[str, str]:
    """(asin, sku) when the transaction names exactly one product, else ("", "")."""
    found = set()
    items = raw.get("items") or ()
    if not isinstance(items, list | tuple):
        raise BadRecord("transaction.items: expected a list")
    for item in items:
        for ctx in (item.get("contexts") or ()) if isinstance(item, Mapping) else ():
            if isinstance(ctx, Mapping) and ctx.get("asin") and ctx.get("sku"):
                found.add((str(ctx["asin"]), str(ctx["sku"])))
    return found.pop() if len(found) == 1 else ("", "")


def _breakdowns(raw: Mapping[str, Any]) -> list[Any]:
    value = raw.get("breakdowns")
    if isinstance(value, Mapping):  # the model's example wraps the list in an object
        value = value.get("breakdowns")
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord("breakdowns: expected a list")
    return value


def _fee_nodes(nodes: list[Any], path: str, under_expenses: bool) -> Iterable[tuple[str, str, Any]]:
    """(path, breakdownType, breakdownAmount) of every fee node of the tree."""
    for node in nodes:
        if not isinstance(node, Mapping):
            raise BadRecord(f"{path or 'breakdowns'}: entry is not an object")
        name = node.get("breakdownType")
        if not isinstance(name, str) or not name.strip():
            # the type names the fee and keys it: without one it can be neither booked nor de-duplicated
            raise BadRecord(f"{path or 'breakdowns'}: a breakdown without breakdownType")
        here = f"{path}/{name}" if path else name
        children = node.get("breakdowns") or []
        if not isinstance(children, list):
            raise BadRecord(f"{here}.breakdowns: expected a list")
        group = name.replace(" ", "").lower() in FEE_GROUPS
        if under_expenses and not group:
            yield here, name, node.get("breakdownAmount")
        elif group and children:
            yield from _fee_nodes(children, here, True)


def map_transaction(raw: Any) -> Transaction:
    """One Finances v2024-06-19 transaction -> its refund (for Refund
    transactions) and its fees, each fee keyed by transactionId + breakdown path."""
    if not isinstance(raw, Mapping):
        raise BadRecord("transaction: not an object")
    txn_id = _str(raw, "transactionId", "transactionId")
    txn_type = _str(raw, "transactionType", "transactionType")
    posted = parse_time(raw.get("postedDate"), "postedDate")
    total, _ = finance_money(raw.get("totalAmount"), "totalAmount")
    order_id = _related(raw, "ORDER_ID")
    asin, sku = _product(raw)
    nodes = _breakdowns(raw)
    fees: list[FeeRecord] = []
    seen: dict[str, int] = {}
    for path, name, amount_raw in _fee_nodes(nodes, "", False):
        amount, code = finance_money(amount_raw, f"{path}.breakdownAmount")
        if amount == ZERO:
            continue
        seen[path] = seen.get(path, 0) + 1
        key = path if seen[path] == 1 else f"{path}#{seen[path]}"
        fees.append(FeeRecord(
            external_id=f"{txn_id}/{key}", kind=fee_kind(name), channel_kind=name, amount=-amount,
            currency=code, occurred_at=posted, order_external_id=order_id, listing_external_id=asin,
            variation_external_id=sku, description=str(raw.get("description") or txn_type),
            channel_amount=amount,
        ))
    refund = None
    if txn_type in REFUND_TYPES:
        if not order_id:
            raise BadRecord("Refund transaction without an ORDER_ID")
        sales = [n for n in nodes if isinstance(n, Mapping) and n.get("breakdownType") == "Sales"]
        if sales:
            given = sum((finance_money(n.get("breakdownAmount"), "Sales.breakdownAmount")[0] for n in sales), ZERO)
        else:
            given = total + sum((f.amount for f in fees), ZERO)  # total minus the fee adjustments
        refund = RefundRecord(external_id=txn_id, amount=-given, created_at=posted)
    return Transaction(txn_id, txn_type, posted, order_id, refund, tuple(fees))




def describe_unreadable(raw: Any) -> tuple[str, str, str, list[str]]:
    """Best effort on a transaction ``map_transaction`` refused: (transactionId,
    transactionType, ORDER_ID, fee ids), so that what was set aside can be named."""
    if not isinstance(raw, Mapping):
        return "", "", "", []
    txn_id = str(raw.get("transactionId") or "")
    txn_type = str(raw.get("transactionType") or "")
    try:
        order_id = _related(raw, "ORDER_ID")
    except (AttributeError, TypeError):
        order_id = ""
    fee_ids: list[str] = []
    if txn_id:
        try:
            paths = [path for path, _, _ in _fee_nodes(_breakdowns(raw), "", False)]
        except (BadRecord, AttributeError, TypeError):
            paths = []
        seen: dict[str, int] = {}
        for path in paths:
            seen[path] = seen.get(path, 0) + 1
            fee_ids.append(f"{txn_id}/{path}" if seen[path] == 1 else f"{txn_id}/{path}#{seen[path]}")
    return txn_id, txn_type, order_id, fee_ids
