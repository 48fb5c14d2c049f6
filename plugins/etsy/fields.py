"""Reading Etsy's JSON values exactly: fields that must be there, epoch
seconds, and money (``{amount, divisor, currency_code}``; ledger integers in
minor units). Every reader raises :class:`BadRecord` naming the field (R15)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, DivisionByZero, Inexact, InvalidOperation, localcontext
from typing import Any

from makersync.plugins import BadRecord

POWERS_OF_TEN = {10**k: k for k in range(19)}
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"})


def field(obj: Mapping[str, Any], name: str, what: str) -> Any:
    """``obj[name]``, or BadRecord naming the field when it is absent or null."""
    try:
        value = obj.get(name)
    except AttributeError:
        raise BadRecord(f"{what}: expected an object, got {type(obj).__name__}") from None
    if value is None:
        raise BadRecord(f"{what}.{name}: missing")
    return value


def integer(obj: Mapping[str, Any], name: str, what: str) -> int:
    value = field(obj, name, what)
    if type(value) is not int:  # bool is not an amount
        raise BadRecord(f"{what}.{name}: expected an integer, got {value!r}")
    return value


def epoch(obj: Mapping[str, Any], name: str, what: str, *fallbacks: str) -> datetime:
    """An epoch-seconds field as an aware UTC datetime (newer name first, then older ones)."""
    for key in (name, *fallbacks):
        if obj.get(key) is not None:
            seconds = integer(obj, key, what)
            try:
                return datetime.fromtimestamp(seconds, UTC)
            except (OverflowError, OSError, ValueError):
                raise BadRecord(f"{what}.{key}: {seconds} is not a time") from None
    raise BadRecord(f"{what}.{name}: missing")


def optional_epoch(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def scale(amount: int, divisor: int, what: str) -> Decimal:
    """``amount / divisor`` exactly; a power-of-ten divisor keeps its places (2000/100 -> 20.00)."""
    places = POWERS_OF_TEN.get(divisor)
    if places is not None:
        return Decimal(amount).scaleb(-places)
    if divisor <= 0:
        raise BadRecord(f"{what}.divisor: must be positive, got {divisor}")
    with localcontext() as ctx:
        ctx.traps[Inexact] = True
        try:
            return Decimal(amount) / Decimal(divisor)
        except (Inexact, InvalidOperation, DivisionByZero) as exc:
            raise BadRecord(f"{what}: {amount}/{divisor} is not an exact amount") from exc


def money(obj: Mapping[str, Any], name: str, what: str) -> tuple[Decimal, str]:
    """A Money field ``{amount, divisor, currency_code}`` as (exact Decimal, currency)."""
    raw = field(obj, name, what)
    if type(raw) is dict:  # the common case, checked cheaply: pulls map thousands a second (P1)
        amount, divisor, currency = raw.get("amount"), raw.get("divisor"), raw.get("currency_code")
        places = POWERS_OF_TEN.get(divisor) if type(divisor) is int else None
        if type(amount) is int and places is not None and type(currency) is str:
            return Decimal(amount).scaleb(-places), currency
    where = f"{what}.{name}"
    amount = integer(raw, "amount", where)
    divisor = integer(raw, "divisor", where)
    currency = field(raw, "currency_code", where)
    if not isinstance(currency, str):
        raise BadRecord(f"{where}.currency_code: expected a string")
    return scale(amount, divisor, where), currency


def money_or_zero(obj: Mapping[str, Any], name: str, what: str) -> Decimal:
    if obj.get(name) is None:
        return Decimal("0")
    return money(obj, name, what)[0]


def minor_units(amount: int, currency: str) -> Decimal:
    """A ledger amount (integer minor units of ``currency``) as a Decimal."""
    return Decimal(amount).scaleb(0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else -2)


def variation_id(product_id: Any, has_variation: bool) -> str:
    if not has_variation or product_id is None:
        return ""
    return str(product_id)
