"""Mapping tests on payloads shaped like Amazon's (the models' x-amzn-api-sandbox examples)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from makersync.plugins import BadRecord, FeeKind, OrderStatus
from makersync.plugins.amazon.mapping import (
    listing_item_title,
    map_inventory_summary,
    map_order,
    order_money,
)
from makersync.plugins.amazon.mapping_finances import fee_kind, finance_money, map_transaction

SAMPLES = Path(__file__).parent / "samples"


def load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture()
def orders() -> list[dict]:
    return load("search_orders.json")["orders"]


@pytest.fixture()
def transactions() -> list[dict]:
    return load("transactions.json")["payload"]["transactions"]


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- money ----------------------------------------------------------------------------


def test_order_money_is_exact_from_the_decimal_string() -> None:
    """Orders v2026 money {amount: "str", currencyCode} keeps every digit (R11)."""
    assert order_money({"amount": "154.99", "currencyCode": "USD"}, "x") == (Decimal("154.99"), "USD")
    assert order_money({"amount": "19940", "currencyCode": "JPY"}, "x") == (Decimal("19940"), "JPY")


def test_finance_money_is_exact_from_the_json_number() -> None:
    """Finances money {currencyAmount: number} goes through Decimal(str(x)): 0.1 + 0.2 never leaks (R12)."""
    amount, code = finance_money(json.loads('{"currencyAmount": 12.34, "currencyCode": "USD"}'), "x")
    assert (amount, code) == (Decimal("12.34"), "USD") and str(amount) == "12.34"
    assert str(finance_money({"currencyAmount": -28, "currencyCode": "USD"}, "x")[0]) == "-28.00"
    assert str(finance_money({"currencyAmount": 0.1, "currencyCode": "USD"}, "x")[0]) == "0.10"
    assert str(finance_money({"currencyAmount": 0.125, "currencyCode": "USD"}, "x")[0]) == "0.125"


@pytest.mark.parametrize("bad", [
    {"currencyAmount": "12.34", "currencyCode": "USD"},
    {"currencyAmount": True, "currencyCode": "USD"},
    {"currencyAmount": 1.5},
    None,
])
def test_finance_money_refuses_wrong_types(bad: object) -> None:
    """A string where Amazon sends a number is malformed input, not a guess (R15)."""
    with pytest.raises(BadRecord):
        finance_money(bad, "totalAmount")


def test_order_money_refuses_a_number_amount() -> None:
    """Orders money is a decimal string; a float is refused (R15)."""
    with pytest.raises(BadRecord, match="amount"):
        order_money({"amount": 12.5, "currencyCode": "USD"}, "grandTotal")


# --- orders ----------------------------------------------------------------------------


def test_shipped_fba_order_maps_money_lines_and_fulfilment(orders: list[dict]) -> None:
    """A shipped FBA order: exact money from proceeds, lines tied by (asin, sellerSku) (R9, R11)."""
    rec = map_order(orders[0])
    assert rec.external_id == rec.order_number == "114-3941689-8772232"
    assert (rec.status, rec.channel_status, rec.fulfillment) == (OrderStatus.SHIPPED, "SHIPPED", "FBA")
    assert (rec.subtotal, rec.shipping, rec.tax, rec.discount, rec.total) == (
        Decimal("64.99"), Decimal("4.95"), Decimal("5.36"), Decimal("3.81"), Decimal("71.49"))
    assert rec.total == rec.subtotal - rec.discount + rec.shipping + rec.tax
    assert rec.currency == "USD"
    assert rec.placed_at == t("2026-05-20T14:20:00Z") and rec.modified_at == t("2026-05-21T09:45:00Z")
    assert rec.shipped_at is None  # FBA orders carry no package ship time
    first = rec.lines[0]
    assert (first.listing_external_id, first.variation_external_id, first.sku) == (
        "B08C1W5N87", "MUG-SPK-BLUE", "MUG-SPK-BLUE")
    assert (first.quantity, first.unit_price, first.external_id) == (1, Decimal("28.00"), "11438829311851")


def test_cancelled_order_is_cancelled_with_its_last_update(orders: list[dict]) -> None:
    """CANCELLED (two l's) maps to cancelled; Amazon gives no cancel time, the last update stands in (R11)."""
    rec = map_order(orders[1])
    assert rec.status is OrderStatus.CANCELLED and rec.channel_status == "CANCELLED"
    assert rec.cancelled_at == t("2026-05-22T11:30:00Z")
    assert rec.fulfillment == "MFN"


def test_partially_shipped_order_takes_the_first_package_ship_time(orders: list[dict]) -> None:
    """PARTIALLY_SHIPPED with one package: partially_shipped, shipped_at from packages[].shipTime (R11)."""
    rec = map_order(orders[2])
    assert rec.status is OrderStatus.PARTIALLY_SHIPPED
    assert rec.shipped_at == t("2026-05-25T14:00:00Z")
    assert [ln.quantity for ln in rec.lines] == [2, 1]
    assert rec.total == Decimal("96.00")


def test_pending_order_without_prices_maps_to_pending_with_zero_money(orders: list[dict]) -> None:
    """Amazon shows no prices while an order is PENDING: pending, zero money, currency from the marketplace."""
    rec = map_order(orders[3])
    assert rec.status is OrderStatus.PENDING
    assert rec.total == rec.subtotal == Decimal("0.00") and rec.currency == "USD"
    assert rec.lines[0].unit_price == Decimal("0.00")


def test_refund_arriving_two_days_after_the_order_partially_refunds_it(
        orders: list[dict], transactions: list[dict]) -> None:
    """The Orders API has no refund status: a Finances Refund posted two days later makes the
    order partially_refunded and moves modified_at to the refund (R11, R14)."""
    refund = map_transaction(transactions[1]).refund
    assert refund is not None
    assert refund.amount == Decimal("30.31") and refund.created_at == t("2026-05-23T10:02:44.801Z")
    rec = map_order(orders[0], [refund])
    assert rec.status is OrderStatus.PARTIALLY_REFUNDED
    assert rec.refunded == Decimal("30.31")
    assert rec.modified_at == refund.created_at
    whole = map_order(orders[0], [refund, refund.__class__("r2", Decimal("41.18"), refund.created_at)])
    assert whole.status is OrderStatus.REFUNDED


def test_cancelled_beats_refunded(orders: list[dict], transactions: list[dict]) -> None:
    """Precedence: cancelled > refunded (OrderStatus)."""
    refund = map_transaction(transactions[1]).refund
    assert map_order(orders[1], [refund]).status is OrderStatus.CANCELLED


@pytest.mark.parametrize("breakage, reason", [
    (lambda o: o.pop("createdTime"), "createdTime"),
    (lambda o: o["orderItems"][0].__setitem__("quantityOrdered", "1"), "quantityOrdered"),
    (lambda o: o["orderItems"][0]["product"].pop("sellerSku"), "sellerSku"),
    (lambda o: o["fulfillment"].__setitem__("fulfillmentStatus", "LOST_IN_SPACE"), "unknown status"),
    (lambda o: o["proceeds"]["grandTotal"].__setitem__("currencyCode", "EUR"), "mixed currencies"),
])
def test_malformed_order_raises_bad_record_naming_the_field(orders: list[dict], breakage, reason: str) -> None:
    """A malformed order is refused with the field named, to be set aside (R15)."""
    raw = copy.deepcopy(orders[0])
    breakage(raw)
    with pytest.raises(BadRecord, match=reason):
        map_order(raw)


# --- finances ---------------------------------------------------------------------------


def test_shipment_fees_keep_amazon_names_signs_and_stable_ids(transactions: list[dict]) -> None:
    """Fees under Expenses keep Amazon's names; channel_amount negative as Amazon signs it,
    amount positive for the books; external_id = transactionId + breakdown path (R12, R14)."""
    txn = map_transaction(transactions[0])
    assert txn.refund is None and txn.order_id == "114-3941689-8772232"
    by_kind = {f.channel_kind: f for f in txn.fees}
    assert set(by_kind) == {"Commission", "FBAPerUnitFulfillmentFee"}
    com = by_kind["Commission"]
    assert (com.kind, com.amount, com.channel_amount) == (FeeKind.TRANSACTION, Decimal("9.75"), Decimal("-9.75"))
    assert com.external_id == "b1qD0oAliFkLiqRyGbmeT0DoS2Z2kHzi7TZ92z-vARI/Expenses/AmazonFees/Commission"
    assert by_kind["FBAPerUnitFulfillmentFee"].kind is FeeKind.FULFILLMENT
    assert com.order_external_id == "114-3941689-8772232"
    assert com.listing_external_id == ""  # two products: Amazon does not say which one the fee is for
    assert com.occurred_at == t("2026-05-21T09:45:13.214Z") and com.currency == "USD"
    assert map_transaction(copy.deepcopy(transactions[0])).fees == txn.fees


def test_refund_fee_adjustments_credit_back_and_charge(transactions: list[dict]) -> None:
    """A refunded commission is a fee credited back (amount negative); RefundCommission a charge (R12)."""
    fees = {f.channel_kind: f for f in map_transaction(transactions[1]).fees}
    assert fees["Commission"].amount == Decimal("-5.05") and fees["Commission"].channel_amount == Decimal("5.05")
    assert fees["RefundCommission"].amount == Decimal("0.84") and fees["RefundCommission"].kind is FeeKind.TRANSACTION
    assert fees["Commission"].listing_external_id == "B08C1W5N87"
    assert fees["Commission"].variation_external_id == "MUG-SPK-BLUE"


def test_unknown_fee_type_is_other_with_amazon_name(transactions: list[dict]) -> None:
    """A fee the books do not know stays, as OTHER with Amazon's own name (R12)."""
    (fee,) = map_transaction(transactions[2]).fees
    assert (fee.kind, fee.channel_kind, fee.amount) == (FeeKind.OTHER, "FBAInboundPlacementServiceFee", Decimal("0.30"))
    assert fee.order_external_id == "" and fee.listing_external_id == "B0SOAP00001"


def test_fee_kind_table() -> None:
    """Commission -> transaction, FBA*Fulfillment* -> fulfilment, unknown -> other (R12)."""
    assert fee_kind("Commission") is FeeKind.TRANSACTION
    assert fee_kind("FBAPerOrderFulfillmentFee") is FeeKind.FULFILLMENT
    assert fee_kind("FBAWeightBasedFulfillmentFee") is FeeKind.FULFILLMENT
    assert fee_kind("DigitalServicesFee") is FeeKind.OTHER


def test_refund_without_sales_breakdown_nets_out_the_fees(transactions: list[dict]) -> None:
    """Without a Sales node, the refund is the total less the fee adjustments (exact)."""
    raw = copy.deepcopy(transactions[1])
    raw["breakdowns"] = [raw["breakdowns"][1]]
    assert map_transaction(raw).refund.amount == Decimal("30.31")


def test_transaction_breakdowns_wrapped_in_an_object_are_read(transactions: list[dict]) -> None:
    """The model's example wraps breakdowns in {"breakdowns": [...]}; both shapes read the same."""
    raw = copy.deepcopy(transactions[0])
    raw["breakdowns"] = {"breakdowns": raw["breakdowns"]}
    assert map_transaction(raw).fees == map_transaction(transactions[0]).fees


@pytest.mark.parametrize("key", ["transactionId", "postedDate", "transactionType"])
def test_malformed_transaction_raises_bad_record(transactions: list[dict], key: str) -> None:
    """Missing ids or dates are set aside, never guessed (R15)."""
    raw = copy.deepcopy(transactions[0])
    raw.pop(key)
    with pytest.raises(BadRecord, match=key):
        map_transaction(raw)


def test_refund_without_order_id_is_bad(transactions: list[dict]) -> None:
    """A refund that names no order cannot reach an order: set aside (R15)."""
    raw = copy.deepcopy(transactions[1])
    raw["relatedIdentifiers"] = []
    with pytest.raises(BadRecord, match="ORDER_ID"):
        map_transaction(raw)


# --- listings ----------------------------------------------------------------------------


def test_inventory_summary_maps_to_asin_and_seller_sku() -> None:
    """ListingRecord external_id = ASIN, variation = sellerSku, as order lines carry them (R9, R14)."""
    rows = load("inventory_summaries.json")["payload"]["inventorySummaries"]
    rec = map_inventory_summary(rows[0])
    assert (rec.external_id, rec.variation_external_id, rec.sku) == ("B08C1W5N87", "MUG-SPK-BLUE", "MUG-SPK-BLUE")
    assert (rec.title, rec.quantity, rec.state) == ("Speckled Stoneware Mug - Blue", 14, "active")
    assert rec.modified_at == t("2026-05-30T07:12:09Z")
    empty = map_inventory_summary(rows[1])
    assert (empty.state, empty.quantity, empty.modified_at) == ("inactive", 0, None)
    assert map_inventory_summary(rows[1], "From Listings").title == "From Listings"


def test_inventory_summary_without_asin_is_bad() -> None:
    """A summary without its ASIN cannot be keyed: set aside (R15)."""
    row = load("inventory_summaries.json")["payload"]["inventorySummaries"][0]
    row.pop("asin")
    with pytest.raises(BadRecord, match="asin"):
        map_inventory_summary(row)


def test_listing_item_title_reads_the_first_summary() -> None:
    assert listing_item_title({"sku": "X", "summaries": [{"itemName": "Mug"}]}) == "Mug"
    assert listing_item_title(None) == ""
