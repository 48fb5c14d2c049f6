"""The kept order counts behind ListOrders' ``total_size`` (migration 4).

Triggers keep them, so every way orders come and go must leave the total
equal to a real count: copies, deletions, disconnects and foreign-key
cascades, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from makersync.daemon.domain import catalog, integrations
from makersync.daemon.store import migrations
from makersync.daemon.store.models import OrderRow, StoreRow


def _totals(db, account, store) -> tuple[int, int]:
    """(account total, store total) as ListOrders reports them."""
    return (catalog.list_orders(db, account.id).total_size,
            catalog.list_orders(db, account.id, store_id=store.id).total_size)


def test_list_orders_total_follows_copies_deletes_and_disconnects(db, books, clock):
    """Local copies count for the account but not the store; deleted and disconnected orders stop counting."""
    account, other = books.account(), books.account()
    first, second, theirs = books.store(account), books.store(account), books.store(other)
    orders = [books.order(first) for _ in range(3)] + [books.order(second) for _ in range(2)]
    books.order(theirs)
    assert _totals(db, account, first) == (5, 3)
    copy = catalog.copy_order(db, clock, str(orders[0]))
    assert _totals(db, account, first) == (6, 3)
    catalog.delete_order(db, clock, str(orders[1]))
    catalog.delete_order(db, clock, copy.id)
    assert _totals(db, account, first) == (4, 2)
    integrations.disconnect(db, first.id)
    assert catalog.list_orders(db, account.id).total_size == 2
    assert _totals(db, other, theirs) == (1, 1)


def test_list_orders_total_exact_when_store_row_cascades(db, books):
    """Orders removed by the store's ON DELETE CASCADE stop counting too."""
    account = books.account()
    doomed, kept = books.store(account), books.store(account)
    for store in (doomed, doomed, kept):
        books.order(store)
    with db.write_tx():
        StoreRow.delete().where(StoreRow.id == int(doomed.id)).execute()
    assert catalog.list_orders(db, account.id).total_size == 1 == OrderRow.select().count()


def test_list_orders_total_with_dates_counts_matches_only(db, books):
    """A date filter counts the orders it matches, on every page."""
    account = books.account(time_zone="UTC")
    store = books.store(account)
    base = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for day in range(5):
        books.order(store, placed_at=base + timedelta(days=day))
    pages = [catalog.list_orders(db, account.id, placed_from="2026-05-02", placed_to="2026-05-04", page_size=2)]
    pages.append(catalog.list_orders(db, account.id, placed_from="2026-05-02", placed_to="2026-05-04",
                                     page_size=2, page_token=pages[0].next_page_token))
    assert [p.total_size for p in pages] == [3, 3]
    assert [o.placed_at.day for p in pages for o in p.items] == [4, 3, 2]
    assert pages[1].next_page_token == ""


def test_order_counts_migration_counts_existing_orders_once(db, books):
    """Migration 4 counts the orders already stored, and running it again neither
    double-counts them nor installs its triggers twice."""
    account = books.account()
    store = books.store(account)
    for _ in range(3):
        books.order(store)
    with db.write_tx():
        db.pw.execute_sql("DELETE FROM order_counts")
        migrations.MIGRATIONS[3](db)
    assert _totals(db, account, store) == (3, 3)
    books.order(store)
    assert _totals(db, account, store) == (4, 4)
