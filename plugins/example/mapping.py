"""Example Market JSON to makersync records: pure functions, no I/O.

Every function takes one decoded JSON object as the API sends it and returns
records, or raises :class:`BadRecord` with a reason a maker can read. The
channel catches ``BadRecord``, sets that one object aside (R15) and goes on.

The shapes (see ``simulator.py`` for the whole API)::

    order   {"id": 9000123, "number": "9000123", "status": "paid", "currency": "USD",
             "created_at": "2026-05-01T10:00:00Z", "updated_at": "...",
             "subtotal": "56.00", "discount": "0.00", "shipping": "4.95", "tax": "4.62",
             "total": "65.57", "shipped_at": null, "cancelled_at": null,
             "items": [{"id", "listing_id", "variant_id" (null without variants),
                        "sku", "title", "quantity", "unit_price"}],
             "refunds": [{"id", "amount", "created_at", "reason"}]}
    listing {"id", "title", "state", "currency", "updated_at", "has_variants",
             "variants": [{"id", "sku", "option", "price"}]}
    fee     {"id", "type", "amount" (negative: taken from the seller), "currency",
             "created_at", "order_id", "listing_id", "description"}
"""

from __future__ import annotations

from collections.abc import Mapping
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
    utc,
)

FEE_KINDS: dict[str, FeeKind] = {
    "transaction": FeeKind.TRANSACTION,
    "processing": FeeKind.PROCESSING,
    "listing": FeeKind.LISTING,
    "shipping_label": FeeKind.SHIPPING_LABEL,
    "promoted_listing": FeeKind.ADVERTISING,
    "subscription": FeeKind.SUBSCRIPTION,
}
"""The API's fee ``type`` words; any other word is ``FeeKind.OTHER`` (R12)."""

ZERO = Decimal("0")


# -- field readers: each names the field it could not read ---------------------

def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BadRecord(f"{what}: expected an object, got {type(data).__name__}")
    return data


def _field(data: Mapping[str, Any], key: str, what: str) -> Any:
    _object(data, what)
    if key not in data or data[key] is None:
        raise BadRecord(f"{what}: missing {key!r}")
    return data[key]


def _text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _field(data, key, what)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRecord(f"{what}: {key!r} must be text, got {type(value).__name__}")
    return str(value)


def _money(data: Mapping[str, Any], key: str, what: str) -> Decimal:
    value = _field(data, key, what)
    if not isinstance(value, str):  # a float would already have lost cents
        raise BadRecord(f"{what}: {key!r} must be a decimal string, got {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadRecord(f"{what}: {key!r} is not a decimal: {value!r}") from None
    if not amount.is_finite():
        raise BadRecord(f"{what}: {key!r} is not a finite amount: {value!r}")
    return amount


def _time(data: Mapping[str, Any], key: str, what: str) -> datetime:
    value = _field(data, key, what)
    if not isinstance(value, str):
        raise BadRecord(f"{what}: {key!r} must be an ISO 8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRecord(f"{what}: {key!r} is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise BadRecord(f"{what}: {key!r} has no time zone: {value!r}")
    return utc(parsed)


def _optional_time(data: Mapping[str, Any], key: str, what: str) -> datetime | None:
    return None if data.get(key) is None else _time(data, key, what)


def _list(data: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord(f"{what}: {key!r} must be a list, got {type(value).__name__}")
    return value


def _optional_id(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


# -- records ------------------------------------------------------------------

def order_status(status_word: str, total: Decimal, refunded: Decimal, shipped: bool,
                 cancelled: bool) -> OrderStatus:
    """Normalise with OrderStatus precedence: cancelled > refunded >
    partially refunded > shipped > paid > pending."""
    if cancelled or status_word == "cancelled":
        return OrderStatus.CANCELLED
    if refunded > ZERO and refunded >= total:
        return OrderStatus.REFUNDED
    if refunded > ZERO:
        return OrderStatus.PARTIALLY_REFUNDED
    if shipped:
        return OrderStatus.SHIPPED
    if status_word == "unpaid":
        return OrderStatus.PENDING
    return OrderStatus.PAID


def order_from_json(data: Mapping[str, Any]) -> OrderRecord:
    """One order object as an :class:`OrderRecord`. Raises :class:`BadRecord`."""
    what = f"order {data.get('id') if isinstance(data, Mapping) else '?'}"
    _object(data, what)
    lines = tuple(_line(item, what) for item in _list(data, "items", what))
    refunds = tuple(_refund(r, what) for r in _list(data, "refunds", what))
    total = _money(data, "total", what)
    shipped_at = _optional_time(data, "shipped_at", what)
    cancelled_at = _optional_time(data, "cancelled_at", what)
    word = _text(data, "status", what)
    refunded = sum((r.amount for r in refunds), ZERO)
    return OrderRecord(
        external_id=_text(data, "id", what),
        order_number=_text(data, "number", what),
        status=order_status(word, total, refunded, shipped_at is not None, cancelled_at is not None),
        channel_status=word,
        placed_at=_time(data, "created_at", what),
        modified_at=_time(data, "updated_at", what),
        currency=_text(data, "currency", what),
        subtotal=_money(data, "subtotal", what),
        shipping=_money(data, "shipping", what),
        tax=_money(data, "tax", what),
        discount=_money(data, "discount", what),
        total=total,
        lines=lines,
        refunds=refunds,
        shipped_at=shipped_at,
        cancelled_at=cancelled_at,
    )


def _line(item: Mapping[str, Any], what: str) -> OrderLine:
    quantity = _field(item, "quantity", what + " item")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BadRecord(f"{what}: item quantity must be a whole number, got {quantity!r}")
    return OrderLine(
        external_id=_text(item, "id", what + " item"),
        listing_external_id=_text(item, "listing_id", what + " item"),
        # "" for a listing without variants, as its ListingRecord has it (R9)
        variation_external_id=_optional_id(item, "variant_id"),
        sku=str(item.get("sku") or ""),
        title=str(item.get("title") or ""),
        quantity=quantity,
        unit_price=_money(item, "unit_price", what + " item"),
    )


def _refund(data: Mapping[str, Any], what: str) -> RefundRecord:
    amount = _money(data, "amount", what + " refund")
    if amount < ZERO:
        raise BadRecord(f"{what}: refund amount must not be negative, got {amount}")
    return RefundRecord(
        external_id=_text(data, "id", what + " refund"),
        amount=amount,
        created_at=_time(data, "created_at", what + " refund"),
        reason=str(data.get("reason") or ""),
    )


def listings_from_json(data: Mapping[str, Any]) -> list[ListingRecord]:
    """One listing object as one :class:`ListingRecord` per variant.
    Raises :class:`BadRecord`."""
    what = f"listing {data.get('id') if isinstance(data, Mapping) else '?'}"
    listing_id = _text(data, "id", what)
    title = _text(data, "title", what)
    modified_at = _time(data, "updated_at", what)
    has_variants = bool(data.get("has_variants"))
    variants = _field(data, "variants", what)
    if not isinstance(variants, list) or not variants:
        raise BadRecord(f"{what}: 'variants' must be a non-empty list")
    records = []
    for variant in variants:
        option = str(variant.get("option") or "") if isinstance(variant, Mapping) else ""
        records.append(ListingRecord(
            external_id=listing_id,
            variation_external_id=_text(variant, "id", what + " variant") if has_variants else "",
            sku=str(variant.get("sku") or "") if isinstance(variant, Mapping) else "",
            title=title,
            state=str(data.get("state") or "active"),
            price=_money(variant, "price", what + " variant"),
            currency=str(data.get("currency") or ""),
            modified_at=modified_at,
            options=(("variant", option),) if option else (),
        ))
    return records


def fee_from_json(data: Mapping[str, Any]) -> FeeRecord:
    """One fee object as a :class:`FeeRecord`: the API signs a charge negative,
    the books positive. Raises :class:`BadRecord`."""
    what = f"fee {data.get('id') if isinstance(data, Mapping) else '?'}"
    channel_amount = _money(data, "amount", what)
    word = _text(data, "type", what)
    return FeeRecord(
        external_id=_text(data, "id", what),
        kind=FEE_KINDS.get(word, FeeKind.OTHER),
        channel_kind=word,
        amount=ZERO - channel_amount,
        currency=_text(data, "currency", what),
        occurred_at=_time(data, "created_at", what),
        order_external_id=_optional_id(data, "order_id"),
        listing_external_id=_optional_id(data, "listing_id"),
        description=str(data.get("description") or ""),
        channel_amount=channel_amount,
    )
