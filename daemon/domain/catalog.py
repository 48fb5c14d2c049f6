"""The books: orders (R7), products and listings (R9), fees (R7, R12)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from makersync.daemon import rules
from makersync.daemon.domain import paging
from makersync.daemon.domain.errors import InvalidArgument, NotFound
from makersync.daemon.domain.paging import parse_id, parse_optional_id
from makersync.daemon.domain.views import FeeView, ListingView, OrderView, Page, ProductView
from makersync.daemon.store import catalog as q
from makersync.daemon.store import integrations as qi
from makersync.daemon.store import order_reads
from makersync.plugins.clock import Clock
from makersync.plugins.records import OrderStatus

if TYPE_CHECKING:
    from makersync.daemon.store.db import Database

MAX_NOTE_LEN = 10_000
MAX_TEXT_LEN = 500
ORDER_STATUSES = tuple(s.value for s in OrderStatus)


def _date_range(
    account_tz: str, first: str, last: str, first_field: str, last_field: str
) -> tuple[datetime | None, datetime | None]:
    """UTC bounds [start of ``first``, start of the day after ``last``) in the account's zone."""
    start: date | None = rules.parse_date(first, first_field) if first else None
    end: date | None = rules.parse_date(last, last_field) if last else None
    if start and end and start > end:
        raise InvalidArgument(first_field, f"must not be after {last_field} {end.isoformat()}")
    lower = rules.day_start_utc(start, account_tz) if start else None
    upper = rules.day_start_utc(end + timedelta(days=1), account_tz) if end else None
    return lower, upper


def _scope(db: Database, account_id: str, store_id: str) -> tuple[int, str, int | None]:
    """(account id, account zone, store id or None); NotFound for either."""
    account = parse_id(account_id, "account_id", "account")
    store = parse_optional_id(store_id, "store_id", "store")
    tz = q.account_time_zone(db, account)
    if tz is None:
        raise NotFound("account_id", f"no account {account_id!r}")
    if store is not None and q.store_account(db, store) != account:
        raise NotFound("store_id", f"no store {store_id!r} in account {account_id}")
    return account, tz, store


def _order(db: Database, order_id: str) -> OrderView:
    view = order_reads.fetch_order(db, parse_id(order_id, "order_id", "order"))
    if view is None:
        raise NotFound("order_id", f"no order {order_id!r}")
    return view


def _edit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def list_orders(
    db: Database,
    account_id: str,
    store_id: str = "",
    placed_from: str = "",
    placed_to: str = "",
    page_size: int = 0,
    page_token: str = "",
) -> Page[OrderView]:
    """Orders of the account (optionally one store; '' = all) placed between
    the two dates inclusive ('YYYY-MM-DD' in the account's zone, '' = open),
    newest placed first; ``total_size`` counts all matches.
    Raises NotFound (account, store), InvalidArgument (dates, page)."""
    size = paging.page_size(page_size)
    with db.read_tx():
        account, tz, store = _scope(db, account_id, store_id)
        lower, upper = _date_range(tz, placed_from, placed_to, "placed_from", "placed_to")
        return order_reads.list_orders(db, account, store, lower, upper, size, page_token)


def get_order(db: Database, order_id: str) -> OrderView:
    """One order with lines, refunds, adjustments and recorded overwrites. Raises NotFound."""
    with db.read_tx():
        return _order(db, order_id)


def update_order(
    db: Database,
    clock: Clock,
    order_id: str,
    *,
    status: str | None = None,
    shipped_at: datetime | None = None,
    clear_shipped_at: bool = False,
    location_id: str | None = None,
    note: str | None = None,
) -> OrderView:
    """Edit an order locally (R7). On a pulled order the edit is marked
    (``locally_edited``); an edit of ``status`` or ``shipped_at`` is kept until
    a pull writes the channel's value over it, an edit of ``location_id`` or
    ``note`` (the maker's own, which no pull writes) stays. ``location_id``
    '' clears it. Raises NotFound, InvalidArgument (status, shipped_at with
    clear_shipped_at, location of another account)."""
    if status is not None and status not in ORDER_STATUSES:
        raise InvalidArgument("status", f"must be one of {', '.join(ORDER_STATUSES)}, got {status!r}")
    if shipped_at is not None and clear_shipped_at:
        raise InvalidArgument("shipped_at", "give shipped_at or clear_shipped_at, not both")
    if shipped_at is not None and shipped_at.tzinfo is None:
        raise InvalidArgument("shipped_at", "must be an aware instant")
    if note is not None and len(note) > MAX_NOTE_LEN:
        raise InvalidArgument("note", f"must be at most {MAX_NOTE_LEN} characters")
    location = None
    if location_id is not None:
        location = parse_optional_id(location_id, "location_id", "location")
    with db.write_tx():
        current = _order(db, order_id)
        if location is not None:
            owner = qi.location_account(db, location)
            if owner is None:
                raise NotFound("location_id", f"no location {location_id!r}")
            if str(owner) != current.account_id:
                raise InvalidArgument("location_id", "is not a location of the order's account")
        wanted: dict[str, Any] = {}
        if status is not None:
            wanted["status"] = status
        if shipped_at is not None:
            wanted["shipped_at"] = shipped_at
        elif clear_shipped_at:
            wanted["shipped_at"] = None
        if location_id is not None:
            wanted["location"] = location
        if note is not None:
            wanted["note"] = note
        now_values = {
            "status": current.status,
            "shipped_at": current.shipped_at,
            "location": int(current.location_id) if current.location_id else None,
            "note": current.note,
        }
        changes = {k: v for k, v in wanted.items() if now_values[k] != v}
        if not changes:
            return current
        ident = int(current.id)
        fields: dict[str, Any] = dict(changes, updated_at=clock.now())
        if current.store_id:  # a pulled order: remember the edit until a pull overwrites it (R7)
            edits = q.order_local_edits(db, ident)
            for key, value in changes.items():
                name = "location_id" if key == "location" else key
                edits[name] = _edit_value(value)
            fields.update(locally_edited=True, local_edits=edits)
        q.update_order(db, ident, fields)
        return _order(db, order_id)


def copy_order(db: Database, clock: Clock, order_id: str) -> OrderView:
    """A local copy of the order: no store, no external id, ``copied_from`` set,
    lines copied; pulls never touch it (R7). Raises NotFound."""
    with db.write_tx():
        current = _order(db, order_id)
        new_id = q.copy_order(db, clock.now(), int(current.id))
        return _order(db, str(new_id))


def delete_order(db: Database, clock: Clock, order_id: str) -> None:
    """Delete an order. A pulled order leaves a tombstone keyed by its
    external id (automatic pulls respect it, manual pulls recreate, R7).
    Raises NotFound."""
    with db.write_tx():
        current = _order(db, order_id)
        if current.store_id and current.external_id:
            q.add_tombstone(db, clock.now(), int(current.store_id), "order", current.external_id)
        q.delete_order(db, int(current.id))


def list_products(
    db: Database, account_id: str, page_size: int = 0, page_token: str = ""
) -> Page[ProductView]:
    """The account's products (oldest first) with their listings. Raises NotFound, InvalidArgument."""
    size = paging.page_size(page_size)
    with db.read_tx():
        account, _tz, _store = _scope(db, account_id, "")
        return q.list_products(db, account, size, page_token)


def get_product(db: Database, product_id: str) -> ProductView:
    """One product with its listings. Raises NotFound."""
    ident = parse_id(product_id, "product_id", "product")
    with db.read_tx():
        view = q.fetch_product(db, ident)
    if view is None:
        raise NotFound("product_id", f"no product {product_id!r}")
    return view


def create_product(db: Database, clock: Clock, account_id: str, sku: str, title: str) -> ProductView:
    """A product the maker creates (created_by 'maker'). Raises NotFound, InvalidArgument (title empty)."""
    clean_title = " ".join((title or "").split())
    clean_sku = (sku or "").strip()
    if not clean_title:
        raise InvalidArgument("title", "is required")
    if len(clean_title) > MAX_TEXT_LEN or len(clean_sku) > MAX_TEXT_LEN:
        field = "title" if len(clean_title) > MAX_TEXT_LEN else "sku"
        raise InvalidArgument(field, f"must be at most {MAX_TEXT_LEN} characters")
    with db.write_tx():
        account, _tz, _store = _scope(db, account_id, "")
        ident = q.insert_product(
            db,
            {
                "account": account,
                "sku": clean_sku,
                "sku_norm": rules.normalize_sku(clean_sku),
                "title": clean_title,
                "title_norm": rules.normalize_title(clean_title),
                "created_by": "maker",
                "created_at": clock.now(),
            },
        )
        view = q.fetch_product(db, ident)
    assert view is not None
    return view


def get_listing(db: Database, listing_id: str) -> ListingView:
    """One listing. Raises NotFound, InvalidArgument."""
    ident = parse_id(listing_id, "listing_id", "listing")
    with db.read_tx():
        view = q.fetch_listing(db, ident)
    if view is None:
        raise NotFound("listing_id", f"no listing {listing_id!r}")
    return view


def move_listing(db: Database, listing_id: str, product_id: str) -> ListingView:
    """Link a listing to another product of the same account; matched_by
    becomes 'moved' and later pulls follow (R9). Raises NotFound,
    InvalidArgument (product of another account)."""
    listing_ident = parse_id(listing_id, "listing_id", "listing")
    product_ident = parse_id(product_id, "product_id", "product")
    with db.write_tx():
        listing = q.fetch_listing(db, listing_ident)
        if listing is None:
            raise NotFound("listing_id", f"no listing {listing_id!r}")
        owner = q.product_account(db, product_ident)
        if owner is None:
            raise NotFound("product_id", f"no product {product_id!r}")
        if str(owner) != listing.account_id:
            raise InvalidArgument("product_id", "is not a product of the listing's account", "R9")
        q.move_listing(db, listing_ident, product_ident)
        view = q.fetch_listing(db, listing_ident)
    assert view is not None
    return view


def list_fees(
    db: Database,
    account_id: str,
    store_id: str = "",
    start_date: str = "",
    end_date: str = "",
    page_size: int = 0,
    page_token: str = "",
) -> Page[FeeView]:
    """Fees of the account (optionally one store) that occurred between the
    two dates inclusive (account zone, '' = open), newest first.
    Raises NotFound, InvalidArgument."""
    size = paging.page_size(page_size)
    with db.read_tx():
        account, tz, store = _scope(db, account_id, store_id)
        lower, upper = _date_range(tz, start_date, end_date, "start_date", "end_date")
        return q.list_fees(db, account, store, lower, upper, size, page_token)


def get_fee(db: Database, fee_id: str) -> FeeView:
    """One fee. Raises NotFound."""
    ident = parse_id(fee_id, "fee_id", "fee")
    with db.read_tx():
        view = q.fetch_fee(db, ident)
    if view is None:
        raise NotFound("fee_id", f"no fee {fee_id!r}")
    return view


def delete_fee(db: Database, clock: Clock, fee_id: str) -> None:
    """Delete a fee, leaving a tombstone keyed by its external id (R7). Raises NotFound."""
    ident = parse_id(fee_id, "fee_id", "fee")
    with db.write_tx():
        key = q.fee_key(db, ident)
        if key is None:
            raise NotFound("fee_id", f"no fee {fee_id!r}")
        q.add_tombstone(db, clock.now(), key[0], "fee", key[1])
        q.delete_fee(db, ident)
