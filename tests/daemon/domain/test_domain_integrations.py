"""Integrations and stores: store limit (R1), settings (R5, R6, R8), disconnect (R3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from makersync.daemon.domain import accounts, catalog, integrations, pulls
from makersync.daemon.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    QuotaExceeded,
)
from makersync.daemon.store.models import ProductRow, TombstoneRow

CHANNELS = ("etsy", "shopify", "amazon")


def test_store_limit_refused_and_nothing_written(db, clock, books, plans, rows):
    """R1: the trial plan allows 2 stores; a third is refused naming the plan, nothing changes."""
    account = books.account(plan="trial")
    books.store(account)
    books.store(account, channel="shopify")
    with pytest.raises(QuotaExceeded) as err:
        integrations.check_store_quota(db, clock, plans, account.id)
    assert "plan trial allows 2" in str(err.value) and str(err.value).endswith("(R1)")
    before = rows()
    with pytest.raises(QuotaExceeded):
        books.store(account, channel="amazon")
    assert rows() == before


def test_store_quota_unlimited_on_growth(db, clock, books, plans):
    """R1: growth has no store limit."""
    account = books.account(plan="growth")
    for _ in range(3):
        books.store(account)
    integrations.check_store_quota(db, clock, plans, account.id)


def test_many_stores_per_channel_allowed(db, books):
    """R1: an account may connect several shops of one channel."""
    account = books.account()
    books.store(account, "etsy", "a")
    books.store(account, "etsy", "b")
    integ = integrations.list_integrations(db, account.id).items
    assert len(integ) == 1 and [s.external_shop_id for s in integ[0].stores] == ["a", "b"]


def test_connect_refused_when_shop_already_connected(db, books, rows):
    """The same shop twice in one account is AlreadyExists, nothing written."""
    account = books.account()
    books.store(account, "etsy", "shop-x")
    before = rows()
    with pytest.raises(AlreadyExists):
        books.store(account, "etsy", "shop-x")
    assert rows() == before


def test_connect_refused_when_channel_not_installed(db, books, rows):
    """A channel no plugin provides is not found (integrations.proto), naming the installed ones."""
    account = books.account()
    before = rows()
    with pytest.raises(NotFound) as err:
        books.store(account, channel="ebay")
    assert err.value.field == "channel" and "etsy" in str(err.value)
    assert rows() == before


def test_connect_queues_initial_pull_from_floor(db, books, clock):
    """R3: the initial pull of a new store covers the floor up to now."""
    account = books.account(start_date="2026-01-01", time_zone="Europe/Berlin")
    store = books.store(account)
    pull = pulls.get_pull(db, store.initial_pull_id)
    assert (pull.kind, pull.state) == ("initial", "queued")
    assert pull.window_start == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert pull.window_end == clock.now()
    assert store.last_pull is not None and store.last_pull.id == pull.id
    assert store.next_automatic_pull_at is not None and store.next_automatic_pull_at > clock.now()


def test_default_location_refused_when_plan_disallows(db, books, clock, plans, rows):
    """R8: a default location on a plan without it is a failed precondition; nothing written."""
    account = books.account(plan="studio")
    loc = accounts.create_location(db, clock, account.id, "Studio")
    before = rows()
    with pytest.raises(FailedPrecondition) as err:
        integrations.configure(db, clock, plans, account.id, "etsy", CHANNELS,
                               default_location_id=loc.id)
    assert err.value.field == "default_location_id" and str(err.value).endswith("(R8)")
    assert rows() == before


def test_default_location_set_and_cleared_when_plan_allows(db, books, clock, plans):
    """R8: on business the integration may name a location; '' clears it."""
    account = books.account(plan="business")
    loc = accounts.create_location(db, clock, account.id, "Studio")
    view = integrations.configure(db, clock, plans, account.id, "etsy", CHANNELS,
                                  default_location_id=loc.id)
    assert view.default_location_id == loc.id
    view = integrations.configure(db, clock, plans, account.id, "etsy", CHANNELS,
                                  default_location_id="")
    assert view.default_location_id == ""


def test_default_location_refused_when_other_accounts(db, books, clock, plans):
    """R8: the location must be one of the account's own."""
    mine = books.account(plan="business")
    other = books.account(plan="business")
    loc = accounts.create_location(db, clock, other.id, "Theirs")
    with pytest.raises(InvalidArgument):
        integrations.configure(db, clock, plans, mine.id, "etsy", CHANNELS, default_location_id=loc.id)
    with pytest.raises(NotFound):
        integrations.configure(db, clock, plans, mine.id, "etsy", CHANNELS, default_location_id="999")


def test_automatic_shipped_date_records_since_when_switched_on(db, books, clock, plans):
    """R6: switching automatic_shipped_date on records when, so older orders are left alone."""
    account = books.account()
    view = integrations.configure(db, clock, plans, account.id, "etsy", CHANNELS,
                                  automatic_shipped_date=True)
    assert view.automatic_shipped_date and view.automatic_shipped_date_since == clock.now()
    clock.advance(3600)
    again = integrations.configure(db, clock, plans, account.id, "etsy", CHANNELS,
                                   automatic_shipped_date=True)
    assert again.automatic_shipped_date_since == view.automatic_shipped_date_since


def test_automatic_updates_refused_when_plan_manual_only(db, books, clock, plans):
    """R5: the pro plan has no automatic pulls to switch on."""
    account = books.account(plan="pro")
    with pytest.raises(FailedPrecondition) as err:
        integrations.configure(db, clock, plans, account.id, "etsy", CHANNELS, automatic_updates=True)
    assert str(err.value).endswith("(R5)")


def test_disconnect_removes_pulled_data_and_counts(db, books, clock):
    """R3: disconnecting removes the store's orders, lines, fees, listings, pulls and tombstones."""
    account = books.account()
    store = books.store(account)
    product = books.product(account, store=store)
    listing = books.listing(store, product)
    orders = [books.order(store, listing_id=listing, product_id=product) for _ in range(3)]
    books.fee(store, listing_id=listing)
    books.fee(store)
    catalog.delete_order(db, clock, str(orders[0]))
    result = integrations.disconnect(db, store.id)
    assert (result.orders_removed, result.order_lines_removed) == (2, 2)
    assert (result.fees_removed, result.listings_removed) == (2, 1)
    assert (result.products_removed, result.products_kept) == (1, 0)
    assert (result.pulls_removed, result.tombstones_removed) == (1, 1)
    with pytest.raises(NotFound):
        integrations.get_store(db, store.id)
    assert catalog.list_orders(db, account.id).total_size == 0
    assert TombstoneRow.select().count() == 0


def test_disconnect_keeps_maker_products_and_ones_other_stores_link(db, books):
    """R3: maker products, and pull-made products another store links to, stay."""
    account = books.account()
    gone, other = books.store(account), books.store(account)
    maker = books.product(account, created_by="maker")
    shared = books.product(account, store=gone)
    own = books.product(account, store=gone)
    books.listing(gone, maker)
    books.listing(gone, shared)
    books.listing(other, shared)
    books.order(gone, product_id=own)
    result = integrations.disconnect(db, gone.id)
    assert (result.products_removed, result.products_kept) == (1, 1)
    assert {p.id for p in ProductRow.select()} == {maker, shared}


def test_disconnect_keeps_products_local_copies_link(db, books, clock):
    """R3/R7: a local copy of an order keeps its product; its lines lose the listing link."""
    account = books.account()
    store = books.store(account)
    product = books.product(account, store=store)
    listing = books.listing(store, product)
    order = books.order(store, listing_id=listing, product_id=product)
    copy = catalog.copy_order(db, clock, str(order))
    result = integrations.disconnect(db, store.id)
    assert result.products_removed == 0 and result.products_kept == 1
    kept = catalog.get_order(db, copy.id)
    assert kept.lines[0].product_id == str(product) and kept.lines[0].listing_id == ""


def test_disconnect_never_frees_ids_for_the_next_store(db, books, clock):
    """R3 disconnect / API ids: disconnecting the newest store removes the
    highest store, pull and order ids; the next connect, for another account,
    still gets ids greater than any given before, so an id a caller kept (a
    script, an export, ``makersync watch``) never names another account's data."""
    gone = books.store(books.account())
    manual = pulls.enqueue_pull(db, clock, gone.id, "manual", datetime(2026, 5, 1, tzinfo=UTC),
                                datetime(2026, 5, 2, tzinfo=UTC))
    orders = [books.order(gone) for _ in range(3)]
    integrations.disconnect(db, gone.id)
    again = books.store(books.account())
    order = books.order(again)
    assert int(again.id) > int(gone.id)
    assert int(again.initial_pull_id) > max(int(gone.initial_pull_id), int(manual.id))
    assert order > max(orders)


def test_disconnect_leaves_other_accounts_alone(db, books):
    """R3: only the disconnected store's data goes."""
    mine, theirs = books.account(), books.account()
    a, b = books.store(mine), books.store(theirs, shop="same-id")
    books.order(a)
    books.order(b)
    integrations.disconnect(db, a.id)
    assert catalog.list_orders(db, theirs.id).total_size == 1


def test_store_limit_holds_when_connects_race(db, books):
    """R1: concurrent connects never pass the plan's limit (row lock / single writer)."""
    import threading

    account = books.account(plan="trial")
    results: list[str] = []

    def connect(n: int) -> None:
        try:
            books.store(account, shop=f"race-{n}")
            results.append("ok")
        except QuotaExceeded:
            results.append("quota")
        finally:
            db.close()

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "ok"] + ["quota"] * 4
    assert len(integrations.list_stores(db, account.id).items) == 2
