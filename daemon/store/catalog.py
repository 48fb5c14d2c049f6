"""Queries for the books: orders, products, listings, fees, tombstones.
Callers own the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from makersync.daemon.domain.views import FeeView, ListingView, Page, ProductView
from makersync.daemon.store.convert import fee_view, listing_view, product_view
from makersync.daemon.store.db import Database
from makersync.daemon.store.models import (
    AccountRow,
    AdjustmentRow,
    FeeRow,
    ListingRow,
    OrderLineRow,
    OrderOverwriteRow,
    OrderRow,
    ProductRow,
    RefundRow,
    StoreRow,
    TombstoneRow,
)
from makersync.daemon.store.pages import keyset_page


def account_time_zone(db: Database, account_id: int) -> str | None:
    """The account's time zone, None if there is no such account."""
    row = AccountRow.select(AccountRow.time_zone).where(AccountRow.id == account_id).first()
    return None if row is None else row.time_zone


def store_account(db: Database, store_id: int) -> int | None:
    """The account a store belongs to, None if there is no such store."""
    row = StoreRow.select(StoreRow.account).where(StoreRow.id == store_id).first()
    return None if row is None else int(row.account_id)


# --- orders -------------------------------------------------------------------


def order_local_edits(db: Database, order_id: int) -> dict[str, Any]:
    row = OrderRow.select(OrderRow.local_edits).where(OrderRow.id == order_id).first()
    return {} if row is None else dict(row.local_edits or {})


def update_order(db: Database, order_id: int, fields: Mapping[str, Any]) -> None:
    if fields:
        OrderRow.update(**dict(fields)).where(OrderRow.id == order_id).execute()


def copy_order(db: Database, now: datetime, order_id: int) -> int:
    """A local copy of the order with its lines, refunds and adjustments."""
    src = OrderRow.get_by_id(order_id)
    data = {k: v for k, v in src.__data__.items() if k != "id"}
    data.update(
        store=None,
        channel="",
        external_id=None,
        locally_edited=False,
        local_edits={},
        copied_from=src.id,
        payload_hash="",
        last_pull_id=None,
        first_pulled_at=None,
        created_at=now,
        updated_at=now,
    )
    new_id = int(OrderRow.create(**data).id)
    for model in (OrderLineRow, RefundRow, AdjustmentRow):
        rows = [
            {**{k: v for k, v in r.__data__.items() if k != "id"}, "order": new_id}
            for r in model.select().where(model.order == order_id).order_by(model.id)
        ]
        if rows:
            model.insert_many(rows).execute()
    return new_id


def add_tombstone(db: Database, now: datetime, store_id: int, kind: str, external_id: str) -> None:
    """Remember a deleted pulled record (R7); idempotent."""
    TombstoneRow.insert(
        store=store_id, kind=kind, external_id=external_id, deleted_at=now
    ).on_conflict(
        conflict_target=[TombstoneRow.store, TombstoneRow.kind, TombstoneRow.external_id],
        update={TombstoneRow.deleted_at: now},
    ).execute()


def delete_order(db: Database, order_id: int) -> None:
    for model in (OrderLineRow, RefundRow, AdjustmentRow, OrderOverwriteRow):
        model.delete().where(model.order == order_id).execute()
    FeeRow.update(order=None).where(FeeRow.order == order_id).execute()
    OrderRow.delete().where(OrderRow.id == order_id).execute()


def is_tombstoned(db: Database, store_id: int, kind: str, external_id: str) -> bool:
    return (
        TombstoneRow.select()
        .where(
            (TombstoneRow.store == store_id)
            & (TombstoneRow.kind == kind)
            & (TombstoneRow.external_id == external_id)
        )
        .exists()
    )


# --- products and listings -----------------------------------------------------


def _listing_views(rows: list[ListingRow]) -> list[ListingView]:
    store_ids = {r.store_id for r in rows}
    channels: dict[int, str] = {}
    if store_ids:
        query: Any = StoreRow.select(StoreRow.id, StoreRow.channel).where(StoreRow.id.in_(store_ids))
        channels = dict(query.tuples())
    return [listing_view(r, channels.get(r.store_id, "")) for r in rows]


def _product_views(rows: list[ProductRow]) -> list[ProductView]:
    by_product: dict[int, list[ListingRow]] = defaultdict(list)
    ids = [r.id for r in rows]
    if ids:
        listings = ListingRow.select().where(ListingRow.product.in_(ids)).order_by(ListingRow.id)
        for view_row in listings:
            by_product[view_row.product_id].append(view_row)
    return [product_view(r, _listing_views(by_product[r.id])) for r in rows]


def fetch_product(db: Database, product_id: int) -> ProductView | None:
    row = ProductRow.get_or_none(ProductRow.id == product_id)
    return None if row is None else _product_views([row])[0]


def product_account(db: Database, product_id: int) -> int | None:
    row = ProductRow.select(ProductRow.account).where(ProductRow.id == product_id).first()
    return None if row is None else int(row.account_id)


def list_products(db: Database, account_id: int, size: int, token: str) -> Page[ProductView]:
    query = ProductRow.select().where(ProductRow.account == account_id)
    rows, next_token = keyset_page(
        query, [ProductRow.created_at, ProductRow.id], size, token, ("products", account_id)
    )
    return Page(_product_views(rows), next_token)


def insert_product(db: Database, fields: Mapping[str, Any]) -> int:
    return int(ProductRow.create(**dict(fields)).id)


def fetch_listing(db: Database, listing_id: int) -> ListingView | None:
    row = ListingRow.get_or_none(ListingRow.id == listing_id)
    return None if row is None else _listing_views([row])[0]


def move_listing(db: Database, listing_id: int, product_id: int) -> None:
    """Link the listing (and its order lines) to another product (R9)."""
    ListingRow.update(product=product_id, matched_by="moved").where(
        ListingRow.id == listing_id
    ).execute()
    OrderLineRow.update(product=product_id).where(OrderLineRow.listing == listing_id).execute()


# --- fees -------------------------------------------------------------------------


def _fee_views(rows: list[FeeRow]) -> list[FeeView]:
    listing_ids = {r.listing_id for r in rows if r.listing_id is not None}
    products: dict[int, int] = {}
    if listing_ids:
        query: Any = ListingRow.select(ListingRow.id, ListingRow.product).where(
            ListingRow.id.in_(listing_ids)
        )
        products = dict(query.tuples())
    return [fee_view(r, products.get(r.listing_id) if r.listing_id else None) for r in rows]


def fee_key(db: Database, fee_id: int) -> tuple[int, str] | None:
    """(store id, external id) of a fee, None if there is no such fee."""
    row = FeeRow.select(FeeRow.store, FeeRow.external_id).where(FeeRow.id == fee_id).first()
    return None if row is None else (int(row.store_id), row.external_id)


def list_fees(
    db: Database,
    account_id: int,
    store_id: int | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
    size: int,
    token: str,
) -> Page[FeeView]:
    """Fees newest first; ``occurred_to`` exclusive."""
    query = FeeRow.select().where(FeeRow.account == account_id)
    if store_id is not None:
        query = query.where(FeeRow.store == store_id)
    if occurred_from is not None:
        query = query.where(FeeRow.occurred_at >= occurred_from)
    if occurred_to is not None:
        query = query.where(FeeRow.occurred_at < occurred_to)
    scope = ("fees", account_id, store_id, occurred_from, occurred_to)
    rows, next_token = keyset_page(query, [FeeRow.occurred_at, FeeRow.id], size, token, scope, descending=True)
    return Page(_fee_views(rows), next_token)


def delete_fee(db: Database, fee_id: int) -> None:
    FeeRow.delete().where(FeeRow.id == fee_id).execute()


def count_rows(db: Database, model_name: str, **where: Any) -> int:
    """Test and status helper: rows of a model (by class name) matching ``where``."""
    from makersync.daemon.store import models

    model = getattr(models, model_name)
    query = model.select()
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(query.count())



def fetch_fee(db: Database, fee_id: int) -> FeeView | None:
    row = FeeRow.get_or_none(FeeRow.id == fee_id)
    return None if row is None else _fee_views([row])[0]
