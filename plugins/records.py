"""Plain record types a channel hands to the daemon.

Every record is a frozen dataclass of plain values: exact ``Decimal`` money,
aware UTC ``datetime`` instants, the channel's own external ids as strings.
Records know nothing of the database, gRPC, plans or matching.

``to_json``/``from_json`` give the canonical JSON form (money as decimal
strings, instants as ISO 8601 in UTC) used by checkpoints, simulators'
ground truth and payload hashes.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _json_string  # json.dumps' own
from typing import Any, Generic, TypeVar

__all__ = [
    "AdjustmentRecord",
    "ChangeDetection",
    "CredentialField",
    "FeeKind",
    "FeeRecord",
    "ListingRecord",
    "OrderLine",
    "OrderRecord",
    "OrderStatus",
    "Page",
    "RefundRecord",
    "SetAside",
    "ShopInfo",
    "Window",
    "from_json",
    "record_hash",
    "to_json",
    "utc",
]


class OrderStatus(enum.StrEnum):
    """An order's normalised lifecycle; the channel's own word stays in
    ``OrderRecord.channel_status``. Later members win where several apply
    (a shipped order that was partly refunded is ``PARTIALLY_REFUNDED``)."""

    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class FeeKind(enum.StrEnum):
    """The kinds of fee the books know (R12). Anything else is ``OTHER`` and
    keeps the channel's own name in ``FeeRecord.channel_kind``."""

    TRANSACTION = "transaction"
    LISTING = "listing"
    PROCESSING = "processing"
    SHIPPING_LABEL = "shipping_label"
    FULFILLMENT = "fulfillment"
    ADVERTISING = "advertising"
    SUBSCRIPTION = "subscription"
    TAX = "tax"
    OTHER = "other"


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are refused."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: channels must give aware times")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of an order. ``listing_external_id`` and
    ``variation_external_id`` tie it to a listing (R9); ``unit_price`` is the
    price of one unit before order-level discounts."""

    external_id: str
    listing_external_id: str
    variation_external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """Money given back to the buyer for an order (positive amount)."""

    external_id: str
    amount: Decimal
    created_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AdjustmentRecord:
    """A change to an order's money that is not a refund (signed amount)."""

    external_id: str
    kind: str
    amount: Decimal
    created_at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as the channel reports it now.

    ``total`` is what the buyer paid (subtotal - discount + shipping + tax);
    ``refunded`` is the sum of ``refunds``. ``modified_at`` is the channel's
    last-changed time, used so that an older copy never overwrites a newer
    one (R14)."""

    external_id: str
    order_number: str
    status: OrderStatus
    channel_status: str
    placed_at: datetime
    modified_at: datetime
    currency: str
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    discount: Decimal
    total: Decimal
    lines: tuple[OrderLine, ...] = ()
    refunds: tuple[RefundRecord, ...] = ()
    adjustments: tuple[AdjustmentRecord, ...] = ()
    shipped_at: datetime | None = None
    cancelled_at: datetime | None = None
    fulfillment: str = ""

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0"))


@dataclass(frozen=True, slots=True)
class ListingRecord:
    """A listing, one record per variation. ``variation_external_id`` is ""
    for a listing without variations (R14 keys on both ids)."""

    external_id: str
    variation_external_id: str
    sku: str
    title: str
    state: str = "active"
    price: Decimal | None = None
    currency: str = ""
    quantity: int | None = None
    modified_at: datetime | None = None
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FeeRecord:
    """A charge of the channel: the maker's expense (R12).

    ``amount`` is normalised for the books: positive is money the maker pays,
    negative a fee credited back. ``channel_amount`` keeps the channel's own
    sign."""

    external_id: str
    kind: FeeKind
    channel_kind: str
    amount: Decimal
    currency: str
    occurred_at: datetime
    order_external_id: str = ""
    listing_external_id: str = ""
    variation_external_id: str = ""
    description: str = ""
    channel_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SetAside:
    """A record the channel could not turn into a record (R15), kept with
    its reason and a bounded excerpt of the raw payload."""

    kind: str
    external_id: str
    reason: str
    raw: str = ""

    MAX_RAW_CHARS = 4000

    @classmethod
    def of(cls, kind: str, payload: Any, reason: str) -> SetAside:
        """Build a set-aside entry from a raw payload, finding its id if it has one."""
        external_id = ""
        if isinstance(payload, Mapping):
            for key in ("id", "receipt_id", "orderId", "listing_id", "entry_id", "transactionId"):
                if payload.get(key) not in (None, ""):
                    external_id = str(payload[key])
                    break
        try:
            raw = json.dumps(payload, default=str, sort_keys=True)
        except (TypeError, ValueError):
            raw = repr(payload)
        return cls(kind, external_id, reason, raw[: cls.MAX_RAW_CHARS])


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of a stream: its records, what was set aside, and the cursor
    from which the stream resumes *after* this page (opaque, JSON-serialisable).
    ``requests`` counts the HTTP requests that produced the page;
    ``estimated_total`` is the channel's count of records, where it gives one."""

    records: tuple[R, ...]
    cursor: Mapping[str, Any]
    set_aside: tuple[SetAside, ...] = ()
    estimated_total: int | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """What a pull asks of a stream.

    Orders placed in ``[placed_from, placed_to)`` are in scope. With
    ``modified_since`` set (automatic pulls) the channel returns only those
    changed at or after it, plus whatever its declared change detection
    finds (R5). Fees use the same bounds on their own time."""

    placed_from: datetime
    placed_to: datetime
    modified_since: datetime | None = None

    def __post_init__(self) -> None:
        if self.placed_from.tzinfo is None or self.placed_to.tzinfo is None:
            raise ValueError("window bounds must be aware datetimes")
        if self.placed_to <= self.placed_from:
            raise ValueError("window ends before it starts")

    def contains(self, when: datetime) -> bool:
        return self.placed_from <= when < self.placed_to


@dataclass(frozen=True, slots=True)
class ChangeDetection:
    """How a channel finds changes its "modified since" filter misses (R5).

    ``trailing_window``: every automatic pull also re-reads orders placed in
    this much time before now. ``ledger``: the channel walks a ledger of
    refunds and adjustments to find orders to re-read."""

    trailing_window_days: int = 0
    fee_trailing_window_hours: int = 0
    ledger: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class CredentialField:
    """One credential a channel needs on connect."""

    name: str
    description: str
    required: bool = True
    secret: bool = True


@dataclass(frozen=True, slots=True)
class ShopInfo:
    """What ``Channel.connect`` learns about the shop.

    ``reach``: how far back from the moment it reads the channel lets these
    credentials read (Shopify without ``read_all_orders``: the last 60 days),
    None if no rolling limit. The daemon evaluates it again for every pull
    (``now - reach`` when the pull plans its window, R2), so a store connected
    a month ago is not taken to still read back to connect time minus 60 days.

    ``reachable_since``: a fixed earliest instant these credentials can read
    (history that does not exist before it), None if none. Use ``reach`` for a
    limit that moves with time; channels written before ``reach`` existed
    keep working, their instant taken as fixed. Where both are set the later
    of the two applies."""

    external_shop_id: str
    name: str
    currency: str = ""
    warnings: tuple[str, ...] = ()
    reachable_since: datetime | None = None
    reach: timedelta | None = None


# --- canonical JSON -------------------------------------------------------

_RECORD_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (OrderLine, RefundRecord, AdjustmentRecord, OrderRecord, ListingRecord, FeeRecord)
}


def _encode(value: Any, decimal_text: Callable[[Decimal], str] = str) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name), decimal_text) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_encode(v, decimal_text) for v in value]
    return value


def _with_derived(record: Any, data: Any, decimal_text: Callable[[Decimal], str]) -> Any:
    if isinstance(record, OrderRecord):
        data["refunded"] = decimal_text(record.refunded)
    return data


def to_json(record: Any) -> dict[str, Any]:
    """The canonical JSON form of a record: decimals as strings, times in UTC."""
    return _with_derived(record, _encode(record), str)  # type: ignore[no-any-return]


def _decimal_value(value: Decimal) -> str:
    """One text per value: 5, 5.0 and 5.00 (and -0 and 0) are equal decimals."""
    return "0" if value.is_zero() else format(value.normalize(), "f")


# record_hash runs once per pulled record (QUALITY P1), so for the record
# types it writes the canonical JSON text itself, byte for byte what
# json.dumps(sort_keys=True, separators=(",", ":")) makes of the encoded form:
# fields in name order, strings escaped by json's own C function, each money
# value's text remembered (equal decimals are equal keys and share a text).
# Any other type goes the general way (_encode, then json.dumps).
_DECIMAL_TEXTS: dict[Decimal, str] = {}
_DECIMAL_TEXTS_MAX = 4096  # entries, for each of the two memos (a pull reuses few)


def _decimal_value_cached(value: Decimal) -> str:
    if not value.is_finite():
        return _decimal_value(value)
    text = _DECIMAL_TEXTS.get(value)
    if text is None:
        if len(_DECIMAL_TEXTS) >= _DECIMAL_TEXTS_MAX:
            _DECIMAL_TEXTS.clear()
        text = _DECIMAL_TEXTS[value] = _decimal_value(value)
    return text


def _keyed(names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, _json_string(name) + ":") for name in sorted(names))


def _json_general(value: Any) -> str:
    return json.dumps(_encode(value, _decimal_value), sort_keys=True, separators=(",", ":"))


_INSTANT_TEXTS: dict[datetime, str] = {}


def _json_instant(value: datetime) -> str:
    """An instant's JSON text, remembered: formatting a datetime costs twenty
    dictionary lookups, and a pull's records share many instants (equal
    instants, in whatever zone, have one UTC text)."""
    text = _INSTANT_TEXTS.get(value)
    if text is None:
        if len(_INSTANT_TEXTS) >= _DECIMAL_TEXTS_MAX:
            _INSTANT_TEXTS.clear()
        text = _INSTANT_TEXTS[value] = '"' + utc(value).isoformat().replace("+00:00", "Z") + '"'
    return text


def _json_list(values: Sequence[Any]) -> str:
    return "[" + ",".join([_json_text(v) for v in values]) + "]"


def _json_text(value: Any) -> str:
    write = _JSON_WRITERS.get(type(value))
    if write is not None:
        return write(value)
    keyed = _NESTED_FIELDS.get(type(value))
    if keyed is not None:
        return "{" + ",".join([key + _json_text(getattr(value, name)) for name, key in keyed]) + "}"
    return _json_general(value)


_JSON_WRITERS: dict[type, Callable[[Any], str]] = {
    str: _json_string,
    int: int.__repr__,
    bool: lambda v: "true" if v else "false",
    type(None): lambda _v: "null",
    float: json.dumps,
    Decimal: lambda v: _json_string(_decimal_value_cached(v)),
    datetime: _json_instant,
    tuple: _json_list,
    list: _json_list,
    OrderStatus: lambda v: _json_string(v.value),
    FeeKind: lambda v: _json_string(v.value),
}
_NESTED_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {
    cls: _keyed([f.name for f in dataclasses.fields(cls)]) for cls in _RECORD_TYPES.values()
}
# a record hashed at the top also carries what _with_derived adds
_TOP_FIELDS = {**_NESTED_FIELDS, OrderRecord: _keyed([*(f.name for f in dataclasses.fields(OrderRecord)),
                                                       "refunded"])}


def record_hash(record: Any) -> str:
    """A stable hash of a record's canonical form: equal records, equal hashes
    (money compared by value, so ``5.0`` and ``5.00`` hash alike)."""
    keyed = _TOP_FIELDS.get(type(record))
    if keyed is not None:
        blob = "{" + ",".join([key + _json_text(getattr(record, name)) for name, key in keyed]) + "}"
    else:
        data = _with_derived(record, _encode(record, _decimal_value), _decimal_value)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _parse_dt(text: str | None) -> datetime | None:
    if text is None:
        return None
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _decode_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in hints.items():
        if name not in data:
            continue
        raw = data[name]
        kind = str(f.type)
        if raw is None:
            out[name] = None
        elif "datetime" in kind:
            out[name] = _parse_dt(raw)
        elif "Decimal" in kind:
            out[name] = Decimal(str(raw))
        elif kind == "OrderStatus":
            out[name] = OrderStatus(raw)
        elif kind == "FeeKind":
            out[name] = FeeKind(raw)
        elif name == "lines":
            out[name] = tuple(OrderLine(**_decode_fields(OrderLine, x)) for x in raw)
        elif name == "refunds":
            out[name] = tuple(RefundRecord(**_decode_fields(RefundRecord, x)) for x in raw)
        elif name == "adjustments":
            out[name] = tuple(AdjustmentRecord(**_decode_fields(AdjustmentRecord, x)) for x in raw)
        elif name == "options":
            out[name] = tuple(tuple(x) for x in raw)
        else:
            out[name] = raw
    return out


def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
    """Rebuild a record of type ``cls`` from its canonical JSON form."""
    return cls(**_decode_fields(cls, data))


def iter_chunks(items: Sequence[R], size: int) -> Iterator[Sequence[R]]:
    """Yield ``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ = field  # re-exported for channel authors' convenience
