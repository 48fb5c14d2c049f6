"""Pure functions from Etsy payment-ledger entries (PaymentAccountLedgerEntry)
to fees, and to the receipts a refund or adjustment touched (R5, R12).

``ledger_type`` is an open string (Etsy enumerates none; values seen in
etsy/open-api#442 and #531). Known fee types map to a FeeKind, ``<type>_refund``
is the same kind credited back, money movements (payments, refunds, payouts)
are not fees, and anything else is a fee of kind OTHER under its Etsy name.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from makersync.plugins import BadRecord, FeeKind, FeeRecord

from .fields import epoch, field, integer, minor_units

# ledger_type (lower-cased) -> FeeKind; "<type>_refund" is the same kind credited back.
FEE_KINDS: dict[str, FeeKind] = {
    "transaction": FeeKind.TRANSACTION,
    "transaction_quantity": FeeKind.TRANSACTION,
    "shipping_transaction": FeeKind.TRANSACTION,
    "listing": FeeKind.LISTING,
    "listing_private": FeeKind.LISTING,
    "renew_sold": FeeKind.LISTING,
    "renew_sold_auto": FeeKind.LISTING,
    "renew_expired": FeeKind.LISTING,
    "auto_renew_expired": FeeKind.LISTING,
    "payment_processing_fee": FeeKind.PROCESSING,
    "processing_fee": FeeKind.PROCESSING,
    "shipping_labels": FeeKind.SHIPPING_LABEL,
    "shipping_label": FeeKind.SHIPPING_LABEL,
    "offsite_ads_fee": FeeKind.ADVERTISING,
    "etsy_ads": FeeKind.ADVERTISING,
    "prolist": FeeKind.ADVERTISING,
    "subscription": FeeKind.SUBSCRIPTION,
    "etsy_plus": FeeKind.SUBSCRIPTION,
    "sales_tax": FeeKind.TAX,
    "vat_seller_services": FeeKind.TAX,
    "vat_tax_ep": FeeKind.TAX,
}
# Ledger entries that move the buyer's money or pay the seller out: not fees.
NOT_FEES = frozenset(
    {"payment", "payment_gross", "sale", "refund", "refund_gross", "disburse", "disburse2",
     "disbursement", "returned_disbursement", "deposit", "reserve", "reserve_release",
     "recoupment", "bill_payment", "failed_refund_reversal"}
)
# Ledger entries that mean a receipt's money changed (R5: the receipt's own
# update_timestamp does not move on these).
RECEIPT_CHANGE_TYPES = frozenset({"refund", "refund_gross", "shipping_labels", "shipping_label"})
RECEIPT_REFERENCES = frozenset({"receipt", "shop_receipt"})

def ledger_type(entry: Mapping[str, Any]) -> str:
    return str(entry.get("ledger_type") or "").lower()


def ledger_receipt_id(entry: Mapping[str, Any]) -> str:
    """The receipt an entry names, or ""."""
    if str(entry.get("reference_type") or "").lower() in RECEIPT_REFERENCES and entry.get("reference_id"):
        return str(entry["reference_id"])
    return ""


def touched_receipt(entry: Mapping[str, Any]) -> str:
    """The receipt whose money a refund/adjustment/label entry changed, or "" (R5)."""
    kind = ledger_type(entry)
    if kind in RECEIPT_CHANGE_TYPES or kind.endswith("_refund") or entry.get("payment_adjustments"):
        return ledger_receipt_id(entry)
    return ""


def is_fee(entry: Mapping[str, Any]) -> bool:
    return ledger_type(entry) not in NOT_FEES


def ledger_to_fee(entry: Mapping[str, Any]) -> FeeRecord:
    """A fee ledger entry as a FeeRecord: the ledger signs a fee negative, the
    books positive (R12); unknown kinds are OTHER under their Etsy name."""
    what = "ledger_entry"
    entry_id = integer(entry, "entry_id", what)
    amount = integer(entry, "amount", what)
    currency = field(entry, "currency", what)
    if not isinstance(currency, str):
        raise BadRecord("ledger_entry.currency: expected a string")
    occurred = epoch(entry, "created_timestamp", what, "create_date")
    channel_kind = entry.get("ledger_type")
    if not isinstance(channel_kind, str) or not channel_kind.strip():
        # without its type an entry cannot be told from a payment: never book it as a fee
        raise BadRecord("ledger_entry.ledger_type: missing, so the entry cannot be classified")
    base = channel_kind.lower().removesuffix("_refund")
    kind = FEE_KINDS.get(base, FeeKind.OTHER)
    channel_amount = minor_units(amount, currency)
    listing = str(entry.get("reference_id") or "") if str(entry.get("reference_type") or "").lower() == "listing" else ""
    return FeeRecord(
        external_id=str(entry_id),
        kind=kind,
        channel_kind=channel_kind,
        amount=Decimal(0) - channel_amount,
        currency=currency,
        occurred_at=occurred,
        order_external_id=ledger_receipt_id(entry),
        listing_external_id=listing,
        description=str(entry.get("description") or ""),
        channel_amount=channel_amount,
    )
