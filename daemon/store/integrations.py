"""Queries for integrations and stores, and the store removal of R3.
Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from makersync.daemon.domain.views import DisconnectResult, IntegrationView, Page, StoreView
from makersync.daemon.store.convert import integration_view, pull_view, store_view
from makersync.daemon.store.db import Database
from makersync.daemon.store.models import (
    AccountRow,
    AdjustmentRow,
    FeeRow,
    IntegrationRow,
    LeaseRow,
    ListingRow,
    LocationRow,
    OrderLineRow,
    OrderOverwriteRow,
    OrderRow,
    ProductRow,
    PullRow,
    RefundRow,
    SetAsideRow,
    StoreRow,
    TombstoneRow,
)
from makersync.daemon.store.pages import keyset_page

_CHUNK = 500


def lock_account(db: Database, account_id: int) -> bool:
    """Lock the account row until the transaction ends (PostgreSQL
    ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already serialises writers),
    so store-count checks cannot race. False if there is no such account."""
    query = AccountRow.select(AccountRow.id).where(AccountRow.id == account_id)
    if not db.is_sqlite:
        query = query.for_update()
    return query.first() is not None


def location_account(db: Database, location_id: int) -> int | None:
    """The account a location belongs to (None if there is no such location)."""
    row = LocationRow.select(LocationRow.account).where(LocationRow.id == location_id).first()
    return None if row is None else int(row.account_id)


def _last_pulls(store_ids: list[int], channels: Mapping[int, str]) -> dict[int, Any]:
    result: dict[int, Any] = {}
    for store_id in store_ids:
        row = (
            PullRow.select()
            .where(PullRow.store == store_id)
            .order_by(PullRow.created_at.desc(), PullRow.id.desc())
            .first()
        )
        if row is not None:
            result[store_id] = pull_view(row, channels[store_id])
    return result


def _initial_pull_id(store_id: int) -> str:
    row = (
        PullRow.select(PullRow.id)
        .where((PullRow.store == store_id) & (PullRow.kind == "initial"))
        .order_by(PullRow.id)
        .first()
    )
    return "" if row is None else str(row.id)


def _store_views(rows: Iterable[StoreRow]) -> list[StoreView]:
    rows = list(rows)
    pulls = _last_pulls([r.id for r in rows], {r.id: r.channel for r in rows})
    return [store_view(r, pulls.get(r.id), _initial_pull_id(r.id)) for r in rows]


def fetch_store(db: Database, store_id: int) -> StoreView | None:
    row = StoreRow.get_or_none(StoreRow.id == store_id)
    return None if row is None else _store_views([row])[0]


def store_exists(db: Database, account_id: int, channel: str, external_shop_id: str) -> bool:
    return (
        StoreRow.select()
        .where(
            (StoreRow.account == account_id)
            & (StoreRow.channel == channel)
            & (StoreRow.external_shop_id == external_shop_id)
        )
        .exists()
    )


def find_store_id(db: Database, account_id: int, channel: str, external_shop_id: str) -> int | None:
    """The id of the account's store for this channel shop, if connected."""
    row = (StoreRow.select(StoreRow.id)
           .where((StoreRow.account == account_id) & (StoreRow.channel == channel)
                  & (StoreRow.external_shop_id == external_shop_id)).first())
    return None if row is None else row.id


def insert_store(db: Database, fields: Mapping[str, Any]) -> int:
    return int(StoreRow.create(**dict(fields)).id)


def update_store(db: Database, store_id: int, fields: Mapping[str, Any]) -> None:
    if fields:
        StoreRow.update(**dict(fields)).where(StoreRow.id == store_id).execute()


def list_stores(db: Database, account_id: int | None, size: int, token: str) -> Page[StoreView]:
    query = StoreRow.select()
    if account_id is not None:
        query = query.where(StoreRow.account == account_id)
    rows, next_token = keyset_page(query, [StoreRow.id], size, token)
    return Page(_store_views(rows), next_token, query.count())


def _integration_view(row: IntegrationRow) -> IntegrationView:
    stores = StoreRow.select().where(StoreRow.integration == row.id).order_by(StoreRow.id)
    return integration_view(row, _store_views(stores))


def fetch_integration(db: Database, account_id: int, channel: str) -> IntegrationView | None:
    row = IntegrationRow.get_or_none(
        (IntegrationRow.account == account_id) & (IntegrationRow.channel == channel)
    )
    return None if row is None else _integration_view(row)


def insert_integration(
    db: Database, now: datetime, account_id: int, channel: str, automatic_updates: bool
) -> int:
    row = IntegrationRow.create(
        account=account_id, channel=channel, automatic_updates=automatic_updates, created_at=now
    )
    return int(row.id)


def update_integration(db: Database, integration_id: int, fields: Mapping[str, Any]) -> None:
    if fields:
        IntegrationRow.update(**dict(fields)).where(IntegrationRow.id == integration_id).execute()


def set_automatic_updates_for_account(db: Database, account_id: int, on: bool) -> int:
    """Switch automatic pulls on or off for all of the account's integrations."""
    return (
        IntegrationRow.update(automatic_updates=on)
        .where(IntegrationRow.account == account_id)
        .execute()
    )


def list_integrations(
    db: Database, account_id: int, size: int, token: str
) -> Page[IntegrationView]:
    query = IntegrationRow.select().where(IntegrationRow.account == account_id)
    rows, next_token = keyset_page(query, [IntegrationRow.id], size, token)
    return Page([_integration_view(r) for r in rows], next_token, query.count())


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def delete_store_and_pulled_data(db: Database, store_id: int) -> DisconnectResult:
    """Remove a store and everything pulled from it (R3); see
    ``domain.integrations.disconnect``. Run inside a write transaction."""
    orders = OrderRow.select(OrderRow.id).where(OrderRow.store == store_id)
    listings = ListingRow.select(ListingRow.id).where(ListingRow.store == store_id)
    linked_by_listing = ListingRow.select(ListingRow.product).where(ListingRow.store == store_id)
    linked_by_line = OrderLineRow.select(OrderLineRow.product).where(
        OrderLineRow.order.in_(orders) & OrderLineRow.product.is_null(False)
    )
    candidates = [
        r.id
        for r in ProductRow.select(ProductRow.id).where(
            (ProductRow.created_by == "pull")
            & (
                (ProductRow.created_by_store_id == store_id)
                | ProductRow.id.in_(linked_by_listing)
                | ProductRow.id.in_(linked_by_line)
            )
        )
    ]
    for model in (RefundRow, AdjustmentRow, OrderOverwriteRow):
        model.delete().where(model.order.in_(orders)).execute()
    lines_removed = OrderLineRow.delete().where(OrderLineRow.order.in_(orders)).execute()
    fees_removed = FeeRow.delete().where(FeeRow.store == store_id).execute()
    # Lines of other orders (local copies) keep their text but lose the link.
    OrderLineRow.update(listing=None).where(OrderLineRow.listing.in_(listings)).execute()
    orders_removed = OrderRow.delete().where(OrderRow.store == store_id).execute()
    listings_removed = ListingRow.delete().where(ListingRow.store == store_id).execute()
    products_removed = 0
    for chunk in _chunks(candidates):
        still_linked = ProductRow.id.in_(
            ListingRow.select(ListingRow.product).where(ListingRow.product.in_(chunk))
        ) | ProductRow.id.in_(
            OrderLineRow.select(OrderLineRow.product).where(OrderLineRow.product.in_(chunk))
        )
        products_removed += (
            ProductRow.delete().where(ProductRow.id.in_(chunk) & ~still_linked).execute()
        )
    pull_ids = PullRow.select(PullRow.id).where(PullRow.store == store_id)
    SetAsideRow.delete().where(SetAsideRow.pull.in_(pull_ids)).execute()
    pulls_removed = PullRow.delete().where(PullRow.store == store_id).execute()
    tombstones_removed = TombstoneRow.delete().where(TombstoneRow.store == store_id).execute()
    LeaseRow.delete().where(LeaseRow.store == store_id).execute()
    StoreRow.delete().where(StoreRow.id == store_id).execute()
    return DisconnectResult(
        store_id=str(store_id),
        orders_removed=orders_removed,
        order_lines_removed=lines_removed,
        fees_removed=fees_removed,
        listings_removed=listings_removed,
        products_removed=products_removed,
        products_kept=len(candidates) - products_removed,
        pulls_removed=pulls_removed,
        tombstones_removed=tombstones_removed,
    )
