"""Records: canonical JSON round trip, stable hashes (R14) and SetAside (R15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from makersync.plugins import (
    AdjustmentRecord,
    FeeKind,
    FeeRecord,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    RefundRecord,
    SetAside,
    Window,
    from_json,
    record_hash,
    to_json,
    utc,
)

T0 = datetime(2026, 5, 1, 10, 30, 15, 123456, tzinfo=UTC)


def an_order(**changes: object) -> OrderRecord:
    fields: dict[str, object] = dict(
        external_id="9000123", order_number="#1001", status=OrderStatus.PARTIALLY_REFUNDED,
        channel_status="partially_refunded", placed_at=T0, modified_at=T0 + timedelta(days=2),
        currency="USD", subtotal=Decimal("56.00"), shipping=Decimal("4.95"), tax=Decimal("4.62"),
        discount=Decimal("5.60"), total=Decimal("59.97"),
        lines=(OrderLine("l1", "L1", "V1", "MUG-SPK-BLUE", "Speckled Stoneware Mug", 2, Decimal("28.00")),),
        refunds=(RefundRecord("r1", Decimal("5.00"), T0 + timedelta(days=2), "damaged item"),),
        adjustments=(AdjustmentRecord("a1", "goodwill", Decimal("-1.10"), T0 + timedelta(days=3), "note"),),
        shipped_at=T0 + timedelta(days=1), cancelled_at=None, fulfillment="merchant",
    )
    fields.update(changes)
    return OrderRecord(**fields)  # type: ignore[arg-type]


RECORDS = [
    an_order(),
    an_order(refunds=(), adjustments=(), lines=(), shipped_at=None, status=OrderStatus.PAID),
    ListingRecord("L1", "V1", "MUG-SPK-BLUE", "Speckled Stoneware Mug", "active", Decimal("28.00"), "USD",
                  12, T0, (("Colour", "Blue"),)),
    ListingRecord("L2", "", "", "Bud Vase Trio"),
    FeeRecord("f1", FeeKind.TRANSACTION, "transaction", Decimal("3.64"), "USD", T0, "9000123", "L1", "V1",
              "transaction fee", Decimal("-3.64")),
    FeeRecord("f2", FeeKind.OTHER, "regulatory_operating_fee", Decimal("0.12"), "EUR", T0),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{type(r).__name__}-{r.external_id}")
def test_records_round_trip_through_json(record: object) -> None:
    data = to_json(record)
    assert from_json(type(record), data) == record
    assert to_json(from_json(type(record), data)) == data


def test_order_json_has_money_as_strings_times_in_utc_and_refunded() -> None:
    data = to_json(an_order())
    assert data["total"] == "59.97"
    assert data["refunded"] == "5.00"
    assert data["placed_at"] == "2026-05-01T10:30:15.123456Z"
    assert data["status"] == "partially_refunded"
    assert data["lines"][0]["unit_price"] == "28.00"
    assert data["cancelled_at"] is None


def test_record_hash_is_stable_across_runs() -> None:
    """The canonical form is a contract: a changed hash re-writes every stored record."""
    assert record_hash(an_order()) == "a3aeb42f96596f22caa5e5ded4da8358"


def test_record_hash_equal_for_equal_records() -> None:
    """Equal records, equal hashes: the same money written 5.0 or 5.00, the same
    instant in another zone."""
    other_zone = timezone(timedelta(hours=2))
    a = an_order()
    b = an_order(total=Decimal("59.970"), placed_at=T0.astimezone(other_zone),
                 refunds=(RefundRecord("r1", Decimal("5"), T0 + timedelta(days=2), "damaged item"),))
    assert a == b
    assert record_hash(a) == record_hash(b)


def test_record_hash_differs_when_anything_changes() -> None:
    base = record_hash(an_order())
    assert record_hash(an_order(total=Decimal("59.98"))) != base
    assert record_hash(an_order(refunds=())) != base
    assert record_hash(an_order(channel_status="refunded")) != base
    assert record_hash(an_order(modified_at=T0 + timedelta(days=2, microseconds=1))) != base


def test_record_hash_of_zero_ignores_sign() -> None:
    assert record_hash(RECORDS[5]) == record_hash(
        FeeRecord("f2", FeeKind.OTHER, "regulatory_operating_fee", Decimal("0.120"), "EUR", T0))
    zero = FeeRecord("f3", FeeKind.OTHER, "x", Decimal("0.00"), "EUR", T0)
    assert record_hash(zero) == record_hash(FeeRecord("f3", FeeKind.OTHER, "x", Decimal("-0"), "EUR", T0))


def test_set_aside_of_finds_the_id_and_keeps_the_payload() -> None:
    entry = SetAside.of("order", {"receipt_id": 12, "grandtotal": "n/a"}, "grandtotal is not money")
    assert (entry.kind, entry.external_id, entry.reason) == ("order", "12", "grandtotal is not money")
    assert '"grandtotal": "n/a"' in entry.raw


@pytest.mark.parametrize("payload, expected_id", [
    ({"id": 0}, "0"), ({"orderId": "113-1"}, "113-1"), ({"id": "", "listing_id": 5}, "5"),
    ({"nothing": 1}, ""), (["not", "a", "mapping"], ""), ("raw text", ""),
])
def test_set_aside_of_id_lookup(payload: object, expected_id: str) -> None:
    assert SetAside.of("fee", payload, "bad").external_id == expected_id


def test_set_aside_of_bounds_the_raw_excerpt_and_survives_odd_values() -> None:
    entry = SetAside.of("order", {"id": 1, "blob": "x" * 10_000, "when": datetime(2026, 1, 1)}, "too big")
    assert len(entry.raw) == SetAside.MAX_RAW_CHARS
    circular: dict[str, object] = {"id": 2}
    circular["self"] = circular
    assert SetAside.of("order", circular, "circular").external_id == "2"


def test_window_refuses_naive_or_reversed_bounds_and_contains_half_open() -> None:
    with pytest.raises(ValueError):
        Window(datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError):
        Window(T0, T0)
    window = Window(T0, T0 + timedelta(days=1))
    assert window.contains(T0) and not window.contains(T0 + timedelta(days=1))


def test_utc_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        utc(datetime(2026, 1, 1))
