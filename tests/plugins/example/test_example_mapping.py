"""Example Market mapping on sample payloads: exact money, statuses, refunds,
variations, fee signs and kinds (R9, R12), and malformed input refused with a
reason (R15)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from makersync.plugins import BadRecord, FeeKind, OrderStatus
from makersync.plugins.example import mapping

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def test_order_money_exact_and_refund_read() -> None:
    order = mapping.order_from_json(sample("order_partially_refunded.json"))
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("84.00"), Decimal("8.40"), Decimal("4.95"), Decimal("6.24"), Decimal("86.79"))
    assert order.refunded == Decimal("16.80")
    assert [(r.external_id, r.amount, r.reason) for r in order.refunds] == [
        ("9000501", Decimal("16.80"), "damaged item")]


def test_order_status_normalised_channel_word_kept() -> None:
    """R11: a shipped, partly refunded order is partially_refunded; the channel's word stays."""
    order = mapping.order_from_json(sample("order_partially_refunded.json"))
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert order.channel_status == "partially_refunded"
    assert order.shipped_at == datetime(2026, 5, 3, 10, tzinfo=UTC)
    unpaid = mapping.order_from_json(sample("order_unpaid.json"))
    assert (unpaid.status, unpaid.channel_status) == (OrderStatus.PENDING, "unpaid")


@pytest.mark.parametrize("changes, expected", [
    ({"cancelled_at": "2026-05-04T00:00:00Z", "status": "cancelled"}, OrderStatus.CANCELLED),
    ({"refunds": [{"id": 1, "amount": "86.79", "created_at": "2026-05-06T09:12:00Z"}]}, OrderStatus.REFUNDED),
    ({"refunds": []}, OrderStatus.SHIPPED),
    ({"refunds": [], "shipped_at": None, "status": "paid"}, OrderStatus.PAID),
])
def test_order_status_precedence(changes: dict[str, Any], expected: OrderStatus) -> None:
    data = sample("order_partially_refunded.json") | changes
    assert mapping.order_from_json(data).status is expected


def test_order_times_aware_utc() -> None:
    order = mapping.order_from_json(sample("order_partially_refunded.json"))
    assert order.placed_at == datetime(2026, 5, 2, 14, 3, 11, 250000, tzinfo=UTC)
    assert order.modified_at.tzinfo is not None


def test_order_lines_tie_to_listing_variations() -> None:
    """R9: a line's listing and variation ids are those of the ListingRecord."""
    order = mapping.order_from_json(sample("order_partially_refunded.json"))
    listings = mapping.listings_from_json(sample("listing_with_variants.json"))
    listings += mapping.listings_from_json(sample("listing_without_variants.json"))
    keys = {(li.external_id, li.variation_external_id) for li in listings}
    assert [(ln.listing_external_id, ln.variation_external_id) for ln in order.lines] == [
        ("9000017", "9000011"), ("9000031", "")]
    assert all((ln.listing_external_id, ln.variation_external_id) in keys for ln in order.lines)
    assert order.lines[0].quantity == 2 and order.lines[0].unit_price == Decimal("28.00")


def test_listing_one_record_per_variant_with_sku_price_option() -> None:
    records = mapping.listings_from_json(sample("listing_with_variants.json"))
    assert [(r.variation_external_id, r.sku, r.price, r.options) for r in records] == [
        ("9000011", "MUG-SPK-BLUE", Decimal("28.00"), (("variant", "Blue"),)),
        ("9000013", "MUG-SPK-SAGE", Decimal("28.00"), (("variant", "Sage"),)),
        ("9000015", "MUG-SPK-CREA", Decimal("30.00"), (("variant", "Cream"),)),
    ]


def test_listing_without_variants_has_empty_variation_id() -> None:
    [record] = mapping.listings_from_json(sample("listing_without_variants.json"))
    assert (record.external_id, record.variation_external_id, record.sku) == ("9000031", "", "")
    assert (record.state, record.price, record.options) == ("sold_out", Decimal("42.50"), ())


def test_fees_signed_for_the_books_with_kinds() -> None:
    """R12: a charge (negative on the channel) is a positive expense; a credit is
    negative; unknown kinds are OTHER with the channel's own word."""
    fees = [mapping.fee_from_json(f) for f in sample("fees.json")]
    assert [(f.kind, f.channel_kind, f.amount, f.channel_amount) for f in fees] == [
        (FeeKind.TRANSACTION, "transaction", Decimal("4.91"), Decimal("-4.91")),
        (FeeKind.ADVERTISING, "promoted_listing", Decimal("2.35"), Decimal("-2.35")),
        (FeeKind.OTHER, "regulatory_operating_fee", Decimal("0.11"), Decimal("-0.11")),
        (FeeKind.TRANSACTION, "transaction", Decimal("-1.20"), Decimal("1.20")),
    ]
    assert fees[1].order_external_id == "9000412" and fees[1].listing_external_id == "9000017"
    assert fees[0].listing_external_id == ""


BREAKAGES = [
    ("order_partially_refunded.json", mapping.order_from_json, lambda d: d.pop("total"), "missing 'total'"),
    ("order_partially_refunded.json", mapping.order_from_json, lambda d: d.update(total=86.79), "decimal string"),
    ("order_partially_refunded.json", mapping.order_from_json, lambda d: d.update(created_at=1717236000),
     "ISO 8601"),
    ("order_partially_refunded.json", mapping.order_from_json, lambda d: d.update(items="n/a"), "must be a list"),
    ("order_partially_refunded.json", mapping.order_from_json,
     lambda d: d["items"][0].update(quantity="2"), "whole number"),
    ("order_partially_refunded.json", mapping.order_from_json,
     lambda d: d.update(updated_at="2026-05-06T09:12:00"), "time zone"),
    ("listing_with_variants.json", mapping.listings_from_json, lambda d: d.update(variants=None), "variants"),
    ("listing_with_variants.json", mapping.listings_from_json,
     lambda d: d["variants"][1].update(price="28,00"), "not a decimal"),
    ("fees.json", lambda fees: mapping.fee_from_json(fees[0]), lambda fees: fees[0].pop("amount"),
     "missing 'amount'"),
]


@pytest.mark.parametrize("name, read, breakage, reason", BREAKAGES)
def test_malformed_payload_raises_bad_record_with_reason(name: str, read: Any, breakage: Any, reason: str) -> None:
    """R15: the channel sets such a record aside with this reason."""
    data = copy.deepcopy(sample(name))
    breakage(data)
    with pytest.raises(BadRecord, match=reason):
        read(data)


def test_not_an_object_is_a_bad_record() -> None:
    with pytest.raises(BadRecord, match="expected an object"):
        mapping.order_from_json(["not", "an", "order"])  # type: ignore[arg-type]
