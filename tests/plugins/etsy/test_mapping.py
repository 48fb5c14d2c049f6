"""Mapping tests on payloads shaped like Etsy's OAS (ShopReceipt,
ShopReceiptTransaction, ShopRefund, ShopListing, ListingInventory,
PaymentAccountLedgerEntry)."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from makersync.plugins import BadRecord, FeeKind, OrderStatus
from makersync.plugins.etsy import fields, ledger, mapping

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def receipt() -> dict:
    return sample("receipt_partially_refunded.json")


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_receipt_money_is_exact_from_amount_and_divisor(receipt):
    """R11: amount/divisor as Decimal, never float; total is grandtotal."""
    order = mapping.receipt_to_order(receipt)
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("78.00"), Decimal("7.80"), Decimal("4.95"), Decimal("5.79"), Decimal("80.94"))
    assert str(order.total) == "80.94"
    assert order.subtotal - order.discount + order.shipping + order.tax == order.total
    assert order.lines[0].unit_price == Decimal("28.00") and order.currency == "USD"


def test_coupon_discount_comes_from_discount_amt_not_float_coupons(receipt):
    """The per-line shop_coupon floats (5.6000000000000005 + 2.2) are never summed."""
    order = mapping.receipt_to_order(receipt)
    assert sum(tx["shop_coupon"] for tx in receipt["transactions"]) != 7.8
    assert order.discount == Decimal("7.80")


def test_money_with_other_divisors_is_exact():
    assert fields.scale(123456, 1000, "x") == Decimal("123.456")
    assert str(fields.scale(2000, 100, "x")) == "20.00"
    assert fields.minor_units(-1500, "JPY") == Decimal("-1500")
    with pytest.raises(BadRecord):
        fields.scale(1, 0, "x")


def test_partial_refund_kept_with_amount_reason_and_status(receipt):
    """R11: a partial refund is a positive RefundRecord; the status is partially_refunded."""
    order = mapping.receipt_to_order(receipt)
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert order.channel_status == "partially refunded"
    assert [(r.amount, r.reason, r.created_at) for r in order.refunds] == [
        (Decimal("15.00"), "damaged item", at(1777500000))]
    assert order.refunds[0].external_id == "3012345678-1777500000-0"
    assert order.refunded == Decimal("15.00")


def test_modified_at_moves_with_refund_though_updated_timestamp_does_not(receipt):
    """R5, R14: Etsy leaves update_timestamp alone on refunds; modified_at still moves."""
    order = mapping.receipt_to_order(receipt)
    assert receipt["updated_timestamp"] < receipt["refunds"][0]["created_timestamp"]
    assert order.modified_at == at(1777500000)


def test_shipped_date_from_transactions_and_shipments(receipt):
    order = mapping.receipt_to_order(receipt)
    assert order.shipped_at == at(1777090000) and order.fulfillment == "usps"
    receipt["transactions"][1]["shipped_timestamp"] = None
    receipt.update(is_shipped=False, shipments=[], status="paid", refunds=[])
    partly = mapping.receipt_to_order(receipt)
    assert partly.status is OrderStatus.PARTIALLY_SHIPPED and partly.shipped_at == at(1777090000)


@pytest.mark.parametrize(("status", "paid", "shipped", "refunds", "expected"), [
    ("paid", True, False, [], OrderStatus.PAID),
    ("completed", True, True, [], OrderStatus.SHIPPED),
    ("open", False, False, [], OrderStatus.PENDING),
    ("payment processing", False, False, [], OrderStatus.PENDING),
    ("canceled", True, False, [], OrderStatus.CANCELLED),
    ("fully refunded", True, True, "all", OrderStatus.REFUNDED),
    ("partially refunded", True, True, "part", OrderStatus.PARTIALLY_REFUNDED),
])
def test_all_seven_receipt_statuses_normalised(receipt, status, paid, shipped, refunds, expected):
    """R11: every ShopReceipt.status maps; the channel's own word is kept."""
    receipt.update(status=status, is_paid=paid, is_shipped=shipped)
    if not shipped:
        receipt["shipments"] = []
        for tx in receipt["transactions"]:
            tx["shipped_timestamp"] = None
    amount = {"all": 8094, "part": 1500}.get(refunds) if isinstance(refunds, str) else None
    receipt["refunds"] = [] if amount is None else [dict(receipt["refunds"][0], amount={
        "amount": amount, "divisor": 100, "currency_code": "USD"})]
    order = mapping.receipt_to_order(receipt)
    assert order.status is expected and order.channel_status == status
    assert (order.cancelled_at is not None) == (expected is OrderStatus.CANCELLED)


def test_unknown_status_and_malformed_receipts_raise_bad_record(receipt):
    """R15: bad input names the field; the channel sets the record aside."""
    for change, field_name in (
        ({"status": "lost in the mail"}, "receipt.status"),
        ({"grandtotal": None}, "receipt.grandtotal"),
        ({"created_timestamp": "2026-04-24", "create_timestamp": None}, "receipt.created_timestamp"),
    ):
        broken = copy.deepcopy(receipt)
        broken.update(change)
        with pytest.raises(BadRecord, match=field_name):
            mapping.receipt_to_order(broken)
    broken = copy.deepcopy(receipt)
    broken["transactions"][0]["quantity"] = "two"
    with pytest.raises(BadRecord, match="transaction.quantity"):
        mapping.receipt_to_order(broken)


def test_failed_refund_is_not_counted(receipt):
    receipt["refunds"].append(dict(receipt["refunds"][0], status="FAILED", created_timestamp=1777600000))
    order = mapping.receipt_to_order(receipt)
    assert order.refunded == Decimal("15.00")


def test_variation_listing_gives_one_record_per_sku():
    """R9, R14: three live products, three records keyed by product_id; deleted ones dropped."""
    mug = sample("listings_active_with_inventory.json")["results"][0]
    records = mapping.listing_to_records(mug)
    assert [(r.external_id, r.variation_external_id, r.sku, r.price, r.quantity) for r in records] == [
        ("1234567890", "11122233301", "MUG-SPK-BLUE", Decimal("28.00"), 4),
        ("1234567890", "11122233302", "MUG-SPK-SAGE", Decimal("28.00"), 0),
        ("1234567890", "11122233303", "MUG-SPK-CREA", Decimal("30.50"), 7),
    ]
    assert records[2].options == (("Primary color", "Cream"),)
    assert records[0].state == "active" and records[0].modified_at == at(1776000000)


def test_listing_without_variations_or_sku_has_empty_ids():
    """R9: a listing without variations has variation id ""; no SKU is ""."""
    tote = sample("listings_active_with_inventory.json")["results"][1]
    (record,) = mapping.listing_to_records(tote)
    assert (record.external_id, record.variation_external_id, record.sku, record.price, record.currency) == (
        "1234567999", "", "", Decimal("22.00"), "USD")


def test_order_lines_use_the_same_ids_as_listings(receipt):
    """R9: a line ties to its listing record by (listing id, variation id), personalisation aside."""
    listings = sample("listings_active_with_inventory.json")["results"]
    keys = {(r.external_id, r.variation_external_id) for li in listings for r in mapping.listing_to_records(li)}
    lines = mapping.receipt_to_order(receipt).lines
    assert [(ln.listing_external_id, ln.variation_external_id) for ln in lines] == [
        ("1234567890", "11122233301"), ("1234567999", "")]
    assert all((ln.listing_external_id, ln.variation_external_id) in keys for ln in lines)


def test_listing_without_inventory_is_bad_record():
    tote = sample("listings_active_with_inventory.json")["results"][1]
    del tote["inventory"]
    with pytest.raises(BadRecord, match="listing.inventory"):
        mapping.listing_to_records(tote)


def test_ledger_fees_normalised_tied_and_kept_under_their_names():
    """R12: fee positive for the books, channel sign kept, tied to receipt or listing,
    unknown kinds OTHER under their Etsy name; money movements are not fees."""
    entries = sample("ledger_entries.json")["results"]
    fees = {f.external_id: f for f in (ledger.ledger_to_fee(e) for e in entries if ledger.is_fee(e))}
    assert "77000001" not in fees and "77000007" not in fees and "77000011" not in fees
    got = {k: (f.kind, f.channel_kind, f.amount, f.channel_amount, f.order_external_id, f.listing_external_id)
           for k, f in fees.items()}
    assert got == {
        "77000002": (FeeKind.TRANSACTION, "transaction", Decimal("4.56"), Decimal("-4.56"), "3012345678", ""),
        "77000003": (FeeKind.PROCESSING, "PAYMENT_PROCESSING_FEE", Decimal("2.68"), Decimal("-2.68"),
                     "3012345678", ""),
        "77000004": (FeeKind.LISTING, "listing", Decimal("0.20"), Decimal("-0.20"), "", "1234567890"),
        "77000005": (FeeKind.SHIPPING_LABEL, "shipping_labels", Decimal("6.62"), Decimal("-6.62"), "3012345678", ""),
        "77000006": (FeeKind.ADVERTISING, "offsite_ads_fee", Decimal("2.31"), Decimal("-2.31"), "3012345678", ""),
        "77000008": (FeeKind.TRANSACTION, "transaction_refund", Decimal("-0.88"), Decimal("0.88"), "3012345678", ""),
        "77000009": (FeeKind.OTHER, "seller_onboarding_fee", Decimal("15.00"), Decimal("-15.00"), "", ""),
        "77000010": (FeeKind.TAX, "vat_seller_services", Decimal("0.04"), Decimal("-0.04"), "", ""),
    }
    assert fees["77000002"].occurred_at == at(1777000060) and fees["77000002"].currency == "USD"


def test_ledger_refunds_and_labels_name_the_receipts_to_reread():
    """R5: refunds, adjustments and labels name receipts whose update_timestamp did not move."""
    entries = sample("ledger_entries.json")["results"]
    touched = {e["entry_id"]: ledger.touched_receipt(e) for e in entries}
    assert touched[77000007] == touched[77000005] == touched[77000008] == "3012345678"
    assert touched[77000002] == touched[77000001] == touched[77000009] == ""


def test_malformed_ledger_entry_raises_bad_record():
    entry = sample("ledger_entries.json")["results"][1]
    entry["amount"] = "-456"
    with pytest.raises(BadRecord, match="ledger_entry.amount"):
        ledger.ledger_to_fee(entry)
