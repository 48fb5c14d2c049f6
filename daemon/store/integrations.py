"""Queries for integrations and stores, and the store removal of R3.
Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from makersync.daemon.domain.views import DisconnectResult, IntegrationView, Page, StoreView
from makersync.daemon.store.bulk import RowReader
from makersync.daemon.store.convert import integration_view, pull_view, sid, store_view
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

_STORES = RowReader(StoreRow, (
    "id", "integration", "account", "channel", "external_shop_id", "name", "currency", "connected_at",
    "state", "warnings", "reachable_since", "reach_s", "last_error", "next_automatic_pull_at",
))
_PULLS = RowReader(PullRow, (
    "id", "store", "account_id", "kind", "dry_run", "state", "window_start", "window_end", "modified_since",
    "start_date", "end_date", "progress", "counts", "requests_made", "throttled", "error", "warnings",
    "set_aside_count", "waiting_reason", "created_at", "started_at", "finished_at",
))


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


def fetch_store(db: Database, store_id: int) -> StoreView | None:
    views = _read_stores(db, f"WHERE s.{_STORES.column('id')} = {_STORES.param()}", [store_id])
    return views[0] if views else None


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
    query = StoreRow.select(StoreRow.id)
    if account_id is not None:
        query = query.where(StoreRow.account == account_id)
    rows, next_token = keyset_page(query, [StoreRow.id], size, token, ("stores", account_id))
    views = []
    if rows:  # the page is the filter's stores from its first id to its last
        p, ident = _STORES.param(), f"s.{_STORES.column('id')}"
        where, params = f"WHERE {ident} >= {p} AND {ident} <= {p}", [rows[0].id, rows[-1].id]
        if account_id is not None:
            where, params = f"{where} AND s.{_STORES.column('account')} = {p}", [*params, account_id]
        views = _read_stores(db, where, params)
    return Page(views, next_token)


def _read_stores(db: Database, where: str, params: list[Any]) -> list[StoreView]:
    """The stores ``s`` that ``where`` selects, by id, with their last pull and
    initial pull id: three plain-SQL queries however many stores there are
    (GetStatus reads every store on every call, QUALITY P6)."""
    store_id, pull_id, pull_store = _STORES.column("id"), _PULLS.column("id"), _PULLS.column("store")
    latest = (f"SELECT q.{pull_id} FROM {_PULLS.table} q WHERE q.{pull_store} = s.{store_id}"
              f" ORDER BY q.{_PULLS.column('created_at')} DESC, q.{pull_id} DESC LIMIT 1")
    first_initial = (f"SELECT MIN(q.{pull_id}) FROM {_PULLS.table} q WHERE q.{pull_store} = s.{store_id}"
                     f" AND q.{_PULLS.column('kind')} = 'initial'")
    rows = _STORES.fetch(f"s {where} ORDER BY s.{store_id}", params)
    if not rows:
        return []
    last_pulls = _PULLS.fetch(f"WHERE {pull_id} IN (SELECT ({latest}) FROM {_STORES.table} s {where})", params)
    initial = dict(db.pw.execute_sql(f"SELECT s.{store_id}, ({first_initial}) FROM {_STORES.table} s {where}",
                                     params).fetchall())
    channels = {row[0]: row[3] for row in rows}
    pulls = {row[1]: pull_view(_PULLS.instance(row), channels[row[1]]) for row in last_pulls}
    return [store_view(_STORES.instance(row), pulls.get(row[0]), sid(initial.get(row[0]))) for row in rows]


def all_stores(db: Database, account_id: int | None) -> list[StoreView]:
    """Every store, or every store of one account, by id (no paging: GetStatus)."""
    if account_id is None:
        return _read_stores(db, "", [])
    return _read_stores(db, f"WHERE s.{_STORES.column('account')} = {_STORES.param()}", [account_id])


def _integration_view(db: Database, row: IntegrationRow) -> IntegrationView:
    where = f"WHERE s.{_STORES.column('integration')} = {_STORES.param()}"
    return integration_view(row, _read_stores(db, where, [row.id]))


def fetch_integration(db: Database, account_id: int, channel: str) -> IntegrationView | None:
    row = IntegrationRow.get_or_none(
        (IntegrationRow.account == account_id) & (IntegrationRow.channel == channel)
    )
    return None if row is None else _integration_view(db, row)


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
    rows, next_token = keyset_page(query, [IntegrationRow.id], size, token, ("integrations", account_id))
    return Page([_integration_view(db, r) for r in rows], next_token)


def default_locations(db: Database, account_id: int) -> list[tuple[str, int]]:
    """(channel, location id) of the account's integrations that name a default location (R8)."""
    query = (
        IntegrationRow.select(IntegrationRow.channel, IntegrationRow.default_location)
        .where((IntegrationRow.account == account_id) & IntegrationRow.default_location.is_null(False))
        .order_by(IntegrationRow.channel)
    )
    return [(str(r.channel), int(r.default_location_id)) for r in query]


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
