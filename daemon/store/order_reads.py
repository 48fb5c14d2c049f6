"""Reading orders for ListOrders and GetOrder in plain SQL (QUALITY P6).

peewee builds a query's SQL anew on every call and a model instance per row:
for a page of 100 orders with their lines that cost several times what the
database spent. Here each statement names its columns once
(:class:`~makersync.daemon.store.bulk.RowReader`), a page takes one query for
the orders and one per kind of child (lines, refunds, adjustments,
overwrites), and the views are built straight from the tuples. The total of
an unfiltered list comes from ``order_counts``, which triggers keep
(migration 4), instead of counting the account's orders on every page.
Callers own the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from makersync.daemon.domain.views import (
    AdjustmentView,
    OrderLineView,
    OrderView,
    OverwriteView,
    Page,
    RefundView,
)
from makersync.daemon.store.bulk import RowReader
from makersync.daemon.store.convert import sid
from makersync.daemon.store.db import Database
from makersync.daemon.store.models import (
    AdjustmentRow,
    OrderCountRow,
    OrderLineRow,
    OrderOverwriteRow,
    OrderRow,
    RefundRow,
)
from makersync.daemon.store.pages import decode_key, encode_key

CHILD_IDS_PER_QUERY = 400  # keeps IN (...) lists under SQLite's variable limit

_ORDERS = RowReader(OrderRow, (
    "id", "account", "store", "channel", "external_id", "order_number", "status", "channel_status",
    "placed_at", "modified_at", "shipped_at", "cancelled_at", "location", "currency", "subtotal",
    "shipping", "tax", "discount", "total", "refunded", "fulfillment", "note", "locally_edited",
    "last_pull_id", "copied_from",
))
_LINES = RowReader(OrderLineRow, (
    "order", "position", "id", "external_id", "listing", "listing_external_id", "variation_external_id",
    "sku", "title", "quantity", "unit_price", "product",
))
_REFUNDS = RowReader(RefundRow, ("order", "id", "external_id", "amount", "created_at", "reason"))
_ADJUSTMENTS = RowReader(AdjustmentRow, ("order", "id", "external_id", "kind", "amount", "created_at", "note"))
_OVERWRITES = RowReader(OrderOverwriteRow, ("order", "id", "pull_id", "overwritten_at", "local_values"))
_COUNTS = RowReader(OrderCountRow, ("orders",))
_SORT_KEY = (OrderRow.placed_at, OrderRow.id)


def _children(reader: RowReader, order_ids: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
    """The reader's rows of these orders (its first three columns: order,
    then position and id for lines, id for the others), by order id, each
    list in that column order."""
    rows: list[tuple[Any, ...]] = []
    param = reader.param()
    for start in range(0, len(order_ids), CHILD_IDS_PER_QUERY):
        part = order_ids[start:start + CHILD_IDS_PER_QUERY]
        rows += reader.fetch(f"WHERE {reader.column('order')} IN ({', '.join(param for _ in part)})", part)
    rows.sort(key=lambda r: r[:3])
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def _line(row: tuple[Any, ...]) -> OrderLineView:
    (_order, position, ident, external_id, listing, listing_external_id, variation_external_id,
     sku, title, quantity, unit_price, product) = row
    return OrderLineView(
        id=str(ident), position=position, external_id=external_id, listing_id=sid(listing),
        listing_external_id=listing_external_id, variation_external_id=variation_external_id,
        sku=sku, title=title, quantity=quantity, unit_price=unit_price, product_id=sid(product),
    )


def _overwrite(row: tuple[Any, ...]) -> OverwriteView:
    _order, _ident, pull_id, overwritten_at, local_values = row
    values = {str(k): "" if v is None else str(v) for k, v in (local_values or {}).items()}
    return OverwriteView(sid(pull_id), overwritten_at, values)


def _zero_like(amount: Decimal, total: Decimal | None) -> Decimal:
    """A zero ``amount`` with the decimal places of ``total`` ('0' stored for
    "no refunds" shows as '0.00' beside a '12.50' total, and stays '0' beside
    a JPY '1200'); any other amount as stored. Only the view: stored values
    and record hashes keep the stored form."""
    if amount != 0 or total is None or not total.is_finite():
        return amount
    places = total.as_tuple().exponent
    return Decimal(0).scaleb(places) if isinstance(places, int) and places < 0 else Decimal(0)


def _views(rows: list[tuple[Any, ...]]) -> list[OrderView]:
    """Views of the order rows (``_ORDERS`` columns) with their children."""
    ids = [row[0] for row in rows]
    lines, refunds = _children(_LINES, ids), _children(_REFUNDS, ids)
    adjustments, overwrites = _children(_ADJUSTMENTS, ids), _children(_OVERWRITES, ids)
    views = []
    for row in rows:
        (ident, account, store, channel, external_id, order_number, status, channel_status, placed_at,
         modified_at, shipped_at, cancelled_at, location, currency, subtotal, shipping, tax, discount,
         total, refunded, fulfillment, note, locally_edited, last_pull_id, copied_from) = row
        views.append(OrderView(
            id=str(ident), account_id=str(account), store_id=sid(store), channel=channel,
            external_id=external_id or "", order_number=order_number, status=status,
            channel_status=channel_status, placed_at=placed_at, modified_at=modified_at,
            shipped_at=shipped_at, cancelled_at=cancelled_at, location_id=sid(location), currency=currency,
            subtotal=subtotal, shipping=shipping, tax=tax, discount=discount, total=total, refunded=_zero_like(refunded, total),
            fulfillment=fulfillment, note=note, locally_edited=locally_edited, last_pull_id=sid(last_pull_id),
            copied_from_order_id=sid(copied_from),
            lines=[_line(r) for r in lines[ident]],
            refunds=[RefundView(r[2], r[3], r[4], r[5]) for r in refunds[ident]],
            adjustments=[AdjustmentView(r[2], r[3], r[4], r[5], r[6]) for r in adjustments[ident]],
            overwrites=[_overwrite(r) for r in overwrites[ident]],
        ))
    return views


def fetch_order(db: Database, order_id: int) -> OrderView | None:
    """One order with its lines, refunds, adjustments and overwrites; None if there is none."""
    rows = _ORDERS.fetch(f"WHERE {_ORDERS.column('id')} = {_ORDERS.param()}", [order_id])
    return _views(rows)[0] if rows else None


def _filter(
    account_id: int, store_id: int | None, placed_from: datetime | None, placed_to: datetime | None
) -> tuple[list[str], list[Any]]:
    """The WHERE conditions (ANDed) and their parameters of a ListOrders filter."""
    p, placed = _ORDERS.param(), _ORDERS.column("placed_at")
    conditions, params = [f"{_ORDERS.column('account')} = {p}"], [account_id]
    if store_id is not None:
        conditions.append(f"{_ORDERS.column('store')} = {p}")
        params.append(store_id)
    if placed_from is not None:
        conditions.append(f"{placed} >= {p}")
        params.append(OrderRow.placed_at.db_value(placed_from))
    if placed_to is not None:
        conditions.append(f"{placed} < {p}")
        params.append(OrderRow.placed_at.db_value(placed_to))
    return conditions, params


def _count(db: Database, conditions: list[str], params: list[Any]) -> int:
    """COUNT(*) of the orders matching the conditions (a date filter: no kept count fits it)."""
    where = " AND ".join(conditions)
    return int(db.pw.execute_sql(f"SELECT COUNT(*) FROM {_ORDERS.table} WHERE {where}", params).fetchone()[0])


def _kept_count(account_id: int, store_id: int | None) -> int:
    """The account's orders (of one store when given) from ``order_counts``."""
    p = _COUNTS.param()
    clauses, params = f"WHERE {_COUNTS.column('account_id')} = {p}", [account_id]
    if store_id is not None:
        clauses += f" AND {_COUNTS.column('store_key')} = {p}"
        params.append(store_id)
    return sum(orders for (orders,) in _COUNTS.fetch(clauses, params))


def list_orders(
    db: Database,
    account_id: int,
    store_id: int | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
    size: int,
    token: str,
) -> Page[OrderView]:
    """Orders newest placed first, then by id; ``placed_to`` exclusive.
    Raises InvalidArgument for a token that is not from this list."""
    scope = ("orders", account_id, store_id, placed_from, placed_to)
    key = decode_key(token, _SORT_KEY, scope)
    conditions, params = _filter(account_id, store_id, placed_from, placed_to)
    is_dated = placed_from is not None or placed_to is not None
    total = _count(db, conditions, params) if is_dated else _kept_count(account_id, store_id)
    p, placed, ident = _ORDERS.param(), _ORDERS.column("placed_at"), _ORDERS.column("id")
    if key is not None:  # a row value: both databases seek the index to it instead of scanning
        conditions.append(f"({placed}, {ident}) < ({p}, {p})")
        params += [OrderRow.placed_at.db_value(key[0]), key[1]]
    rows = _ORDERS.fetch(f"WHERE {' AND '.join(conditions)} ORDER BY {placed} DESC, {ident} DESC LIMIT {p}",
                         [*params, size + 1])
    next_token = encode_key([rows[size - 1][8], rows[size - 1][0]], scope) if len(rows) > size else ""
    return Page(_views(rows[:size]), next_token, total)
