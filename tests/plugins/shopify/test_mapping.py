"""Mapping of Shopify Admin GraphQL payloads (samples/ follow the 2022-07
schema and current versions: MoneyBag decimal strings, gids, shop offsets)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from makersync.plugins import BadRecord, FeeKind, OrderStatus, Window
from makersync.plugins.shopify.bulk import assemble
from makersync.plugins.shopify.mapping import map_fees, map_order, map_variant

SAMPLES = Path(__file__).with_name("samples")


def load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def orders() -> dict[str, dict]:
    return {e["node"]["name"]: e["node"] for e in load("orders_page.json")["data"]["orders"]["edges"]}


def test_money_exact_to_the_cent_from_money_bags() -> None:
    """Decimal strings stay exact: 3 x 19.99 + 0.10 - 1.00 + 4.95 + 5.02 = 69.04."""
    rec = map_order(orders()["#1001"])
    assert rec.external_id == "450789469" and rec.order_number == "#1001"
    assert (rec.subtotal, rec.discount, rec.shipping, rec.tax, rec.total) == (
        Decimal("60.07"), Decimal("1.00"), Decimal("4.95"), Decimal("5.02"), Decimal("69.04"))
    assert rec.subtotal - rec.discount + rec.shipping + rec.tax == rec.total
    assert [(ln.quantity, ln.unit_price) for ln in rec.lines] == [(3, Decimal("19.99")), (1, Decimal("0.10"))]
    assert rec.status is OrderStatus.SHIPPED and rec.channel_status == "PAID/FULFILLED"
    assert rec.shipped_at == datetime(2026, 5, 6, 12, 0, 2, tzinfo=UTC)


def test_lines_carry_product_and_variant_ids_like_listings_r9() -> None:
    """R9: a line's listing/variation ids are the product/variant ids of the listing records."""
    line = map_order(orders()["#1001"]).lines[0]
    listing = map_variant(load("variants_page.json")["data"]["productVariants"]["edges"][0]["node"], "USD")
    assert (line.listing_external_id, line.variation_external_id) == (listing.external_id,
                                                                        listing.variation_external_id)
    assert map_order(orders()["#1001"]).lines[1].sku == ""


def test_partial_refund_with_restock_keeps_paid_total_r11() -> None:
    """R11: one of two plates returned (restockType RETURN): Shopify's current totals drop,
    the books keep what was paid (59.13) and the refund (27.06) apart."""
    rec = map_order(orders()["#1002"])
    assert rec.status is OrderStatus.PARTIALLY_REFUNDED
    assert (rec.subtotal, rec.tax, rec.discount, rec.shipping, rec.total) == (
        Decimal("50.00"), Decimal("4.13"), Decimal("0.00"), Decimal("5.00"), Decimal("59.13"))
    assert rec.refunded == Decimal("27.06")
    assert rec.refunds[0].reason == "one plate chipped"
    assert rec.refunds[0].created_at == datetime(2026, 5, 20, 13, 15, tzinfo=UTC)
    assert rec.lines[0].quantity == 2, "the returned unit was bought: it stays on the line"


def test_cancelled_order_maps_to_cancelled_r11() -> None:
    rec = map_order(orders()["#1003"])
    assert rec.status is OrderStatus.CANCELLED
    assert rec.channel_status == "CANCELLED/VOIDED/UNFULFILLED"
    assert rec.cancelled_at == datetime(2026, 5, 13, 0, 1, tzinfo=UTC)
    assert rec.total == Decimal("50.00") and rec.shipped_at is None


def test_order_edited_after_placement_uses_current_totals() -> None:
    """An edit took one towel off and added a coaster set: current totals (25.00)
    differ from the original (20.00) and win; no refund is invented."""
    node = orders()["#1004"]
    assert node["originalTotalPriceSet"]["shopMoney"]["amount"] != node["currentTotalPriceSet"]["shopMoney"]["amount"]
    rec = map_order(node)
    assert rec.total == Decimal("25.00") and rec.refunds == ()
    assert [(ln.sku, ln.quantity) for ln in rec.lines] == [("TEA-TWL-INDI", 1), ("CST-SET", 1)]
    assert rec.status is OrderStatus.PAID


def test_shop_in_utc_minus_5_zone_across_dst_change_to_utc() -> None:
    """Times with the shop's offset become exact UTC on both sides of the 2026-03-08 change."""
    rec = map_order(orders()["#1005"])
    assert rec.placed_at == datetime(2026, 3, 8, 3, 15, tzinfo=UTC)        # -05:00 (EST)
    assert rec.refunds[0].created_at == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # -05:00, before 2am
    assert rec.shipped_at == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)       # -04:00 (EDT)
    assert rec.modified_at == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)
    assert all(t.tzinfo is UTC for t in (rec.placed_at, rec.modified_at, rec.shipped_at))
    assert rec.refunds[0].reason == ""


def test_malformed_amount_raises_bad_record_naming_field_r15() -> None:
    node = copy.deepcopy(orders()["#1001"])
    node["currentTotalPriceSet"]["shopMoney"]["amount"] = "N/A"
    with pytest.raises(BadRecord, match="currentTotalPriceSet"):
        map_order(node)


def test_unknown_financial_status_is_bad_record_r15() -> None:
    node = copy.deepcopy(orders()["#1001"])
    node["displayFinancialStatus"] = "SOMETHING_NEW"
    with pytest.raises(BadRecord, match="displayFinancialStatus"):
        map_order(node)


def test_missing_field_is_bad_record_r15() -> None:
    node = copy.deepcopy(orders()["#1001"])
    del node["lineItems"]
    with pytest.raises(BadRecord):
        map_order(node)


def test_variants_map_to_listing_records_with_options() -> None:
    edges = load("variants_page.json")["data"]["productVariants"]["edges"]
    mug, bowls = (map_variant(e["node"], "USD") for e in edges)
    assert (mug.external_id, mug.variation_external_id, mug.sku, mug.title) == (
        "632910392", "39072856", "MUG-SPK-BLUE", "Speckled Stoneware Mug")
    assert mug.options == (("Colour", "Blue"),) and mug.price == Decimal("28.00") and mug.state == "active"
    assert mug.modified_at == datetime(2026, 4, 3, 14, 0, tzinfo=UTC)
    assert bowls.options == () and bowls.sku == "" and bowls.state == "archived"


def test_fees_map_known_and_unknown_kinds_r12() -> None:
    """R12: payment fees are PROCESSING, an unknown type is OTHER under its own name, a fee's
    tax is a TAX fee; failed transactions carry no fees."""
    node = load("fees_page.json")["data"]["orders"]["edges"][0]["node"]
    fees = {f.external_id: f for f in map_fees(node, node["transactions"])}
    assert set(fees) == {"1501", "1502", "1502-tax"}
    assert fees["1501"].kind is FeeKind.PROCESSING and fees["1501"].amount == Decimal("2.30")
    assert fees["1501"].order_external_id == "450789469"
    assert fees["1501"].occurred_at == datetime(2026, 5, 4, 14, 12, 33, tzinfo=UTC)
    assert fees["1502"].kind is FeeKind.OTHER and fees["1502"].channel_kind == "currency_conversion_fee"
    assert fees["1502-tax"].kind is FeeKind.TAX and fees["1502-tax"].amount == Decimal("0.05")


def test_fees_outside_window_are_left_out() -> None:
    node = load("fees_page.json")["data"]["orders"]["edges"][0]["node"]
    window = Window(datetime(2026, 5, 5, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert map_fees(node, node["transactions"], window) == []


def test_bulk_jsonl_reassembles_orders_like_pages() -> None:
    """A bulk result (children with __parentId) maps as the paged result does."""
    objects = [json.loads(line) for line in (SAMPLES / "bulk_orders.jsonl").read_text().splitlines()]
    nodes = assemble(objects)
    assert [n["name"] for n in nodes] == ["#1001", "#1002"]
    assert map_order(nodes[0]) == map_order(orders()["#1001"])
    nodes[1]["refunds"][0]["refundLineItems"] = orders()["#1002"]["refunds"][0]["refundLineItems"]
    assert map_order(nodes[1]) == map_order(orders()["#1002"])
