"""The books: local edits, copies and deletions (R7), products and moves (R9), fees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from makersync.daemon.domain import accounts, catalog
from makersync.daemon.domain.errors import InvalidArgument, NotFound
from makersync.daemon.store.models import OrderLineRow, OrderRow, RefundRow, TombstoneRow


def test_update_order_marks_pulled_order_locally_edited(db, books, clock):
    """R7: a local edit to a pulled order is kept with the edited fields' local values."""
    account = books.account()
    store = books.store(account)
    order = books.order(store)
    shipped = datetime(2026, 5, 30, 9, tzinfo=UTC)
    view = catalog.update_order(db, clock, str(order), status="shipped", shipped_at=shipped,
                                note="hand delivered")
    assert view.locally_edited and view.status == "shipped" and view.shipped_at == shipped
    edits = OrderRow.get_by_id(order).local_edits
    assert edits == {"status": "shipped", "shipped_at": shipped.isoformat(), "note": "hand delivered"}


def test_update_order_noop_when_values_unchanged(db, books, clock):
    """R7: re-sending the channel's values is not a local edit."""
    account = books.account()
    order = books.order(books.store(account))
    view = catalog.update_order(db, clock, str(order), status="paid")
    assert not view.locally_edited


def test_update_order_refused_when_status_unknown(db, books, clock, rows):
    """R15: an unknown status is refused naming the field; nothing written."""
    account = books.account()
    order = books.order(books.store(account))
    before = rows()
    with pytest.raises(InvalidArgument) as err:
        catalog.update_order(db, clock, str(order), status="lost")
    assert err.value.field == "status"
    with pytest.raises(InvalidArgument):
        catalog.update_order(db, clock, str(order), shipped_at=clock.now(), clear_shipped_at=True)
    assert rows() == before


def test_update_order_location_refused_when_other_account(db, books, clock):
    """R7/R8: an order can only be placed at its own account's location."""
    account, other = books.account(), books.account()
    order = books.order(books.store(account))
    theirs = accounts.create_location(db, clock, other.id, "Theirs")
    mine = accounts.create_location(db, clock, account.id, "Mine")
    with pytest.raises(InvalidArgument):
        catalog.update_order(db, clock, str(order), location_id=theirs.id)
    assert catalog.update_order(db, clock, str(order), location_id=mine.id).location_id == mine.id
    assert catalog.update_order(db, clock, str(order), location_id="").location_id == ""


def test_copy_order_makes_local_order_with_lines(db, books, clock):
    """R7: a copy has no channel link, points at its original and carries the lines and money."""
    account = books.account()
    store = books.store(account)
    order = books.order(store, total="19.99")
    copy = catalog.copy_order(db, clock, str(order))
    assert (copy.store_id, copy.external_id, copy.channel) == ("", "", "")
    assert copy.copied_from_order_id == str(order) and copy.total == Decimal("19.99")
    assert [ln.unit_price for ln in copy.lines] == [Decimal("19.99")]
    assert len(copy.refunds) == 1 and not copy.locally_edited


def test_delete_pulled_order_leaves_tombstone(db, books, clock):
    """R7: deleting a pulled order leaves a tombstone keyed by its external id."""
    account = books.account()
    store = books.store(account)
    order = books.order(store, external_id="E-1")
    catalog.delete_order(db, clock, str(order))
    with pytest.raises(NotFound):
        catalog.get_order(db, str(order))
    stone = TombstoneRow.get()
    assert (stone.store_id, stone.kind, stone.external_id) == (int(store.id), "order", "E-1")


def test_delete_local_order_leaves_no_tombstone(db, books, clock):
    """R7: a local copy is simply deleted; the original may then be deleted too."""
    account = books.account()
    order = books.order(books.store(account))
    copy = catalog.copy_order(db, clock, str(order))
    catalog.delete_order(db, clock, copy.id)
    assert TombstoneRow.select().count() == 0
    catalog.delete_order(db, clock, str(order))
    assert TombstoneRow.select().count() == 1


def test_delete_fee_leaves_tombstone(db, books, clock):
    """R7: deleting a pulled fee leaves a tombstone keyed by its external id."""
    account = books.account()
    store = books.store(account)
    fee = books.fee(store, external_id="FEE-9")
    catalog.delete_fee(db, clock, str(fee))
    assert catalog.list_fees(db, account.id).items == []
    assert [(t.kind, t.external_id) for t in TombstoneRow.select()] == [("fee", "FEE-9")]


def test_list_orders_filters_dates_in_account_zone(db, books):
    """Dates are the account's: 23:30 UTC on 31 May is 1 June in Berlin."""
    account = books.account(time_zone="Europe/Berlin")
    store = books.store(account)
    books.order(store, placed_at=datetime(2026, 5, 31, 21, 30, tzinfo=UTC))  # 23:30 on 31 May
    books.order(store, placed_at=datetime(2026, 5, 31, 22, 30, tzinfo=UTC))  # 00:30 on 1 June
    june = catalog.list_orders(db, account.id, placed_from="2026-06-01", placed_to="2026-06-01")
    may = catalog.list_orders(db, account.id, placed_to="2026-05-31")
    assert june.total_size == 1 and may.total_size == 1
    with pytest.raises(InvalidArgument) as err:
        catalog.list_orders(db, account.id, placed_from="2026-06-02", placed_to="2026-06-01")
    assert err.value.field == "placed_from"


def test_list_orders_pages_newest_first_without_gaps(db, books):
    """Paging by token visits every order once, newest placed first, equal times included."""
    account = books.account()
    store = books.store(account)
    base = datetime(2026, 5, 1, tzinfo=UTC)
    ids = [books.order(store, placed_at=base + timedelta(hours=i // 2)) for i in range(7)]
    seen, token = [], ""
    while True:
        page = catalog.list_orders(db, account.id, page_size=3, page_token=token)
        assert page.total_size == 7
        seen += [int(o.id) for o in page.items]
        token = page.next_page_token
        if not token:
            break
    expected = sorted(ids, key=lambda i: (OrderRow.get_by_id(i).placed_at, i), reverse=True)
    assert seen == expected


def test_list_orders_refused_when_store_of_other_account(db, books):
    """A store filter must be one of the account's stores."""
    account, other = books.account(), books.account()
    theirs = books.store(other)
    with pytest.raises(NotFound) as err:
        catalog.list_orders(db, account.id, store_id=theirs.id)
    assert err.value.field == "store_id"


def test_create_product_by_maker(db, books, clock):
    """R9/R3: the maker's products are marked as theirs."""
    account = books.account()
    view = catalog.create_product(db, clock, account.id, " MUG-1 ", "Blue   Mug")
    assert (view.sku, view.title, view.created_by) == ("MUG-1", "Blue Mug", "maker")
    with pytest.raises(InvalidArgument):
        catalog.create_product(db, clock, account.id, "X", "  ")


def test_move_listing_marks_moved_and_moves_lines(db, books, clock):
    """R9: a moved listing is matched_by 'moved' and its orders follow it."""
    account = books.account()
    store = books.store(account)
    first = books.product(account, store=store)
    listing = books.listing(store, first)
    order = books.order(store, listing_id=listing, product_id=first)
    target = catalog.create_product(db, clock, account.id, "", "Other")
    moved = catalog.move_listing(db, str(listing), target.id)
    assert (moved.product_id, moved.matched_by) == (target.id, "moved")
    assert catalog.get_order(db, str(order)).lines[0].product_id == target.id
    assert [li.id for li in catalog.get_product(db, target.id).listings] == [str(listing)]


def test_move_listing_refused_when_product_of_other_account(db, books, clock):
    """R9: a listing moves only to a product of its own account."""
    account, other = books.account(), books.account()
    store = books.store(account)
    listing = books.listing(store, books.product(account, store=store))
    theirs = catalog.create_product(db, clock, other.id, "", "Theirs")
    with pytest.raises(InvalidArgument) as err:
        catalog.move_listing(db, str(listing), theirs.id)
    assert err.value.field == "product_id"


def test_fee_links_product_through_listing(db, books):
    """R12: a fee tied to a listing reaches that listing's product."""
    account = books.account()
    store = books.store(account)
    product = books.product(account, store=store)
    listing = books.listing(store, product)
    fee = books.fee(store, listing_id=listing, amount="0.10")
    view = catalog.get_fee(db, str(fee))
    assert (view.listing_id, view.product_id, view.amount) == (str(listing), str(product), Decimal("0.10"))


def test_list_products_oldest_first_with_listings(db, books, clock):
    """Products list oldest first with their linked listings."""
    account = books.account()
    store = books.store(account)
    a = books.product(account, store=store)
    clock.advance(5)
    b = books.product(account, store=store)
    books.listing(store, b)
    page = catalog.list_products(db, account.id)
    assert [p.id for p in page.items] == [str(a), str(b)]
    assert [len(p.listings) for p in page.items] == [0, 1]


def test_get_order_lists_lines_by_position_and_refunds_by_id(db, books):
    """Children come back in their order whatever order they were written in."""
    order = books.order(books.store(books.account()))
    for position in (3, 1, 2):
        OrderLineRow.create(order=order, position=position, sku=f"S{position}", unit_price=Decimal("1.50"))
    RefundRow.create(order=order, external_id="R-late", amount=Decimal("0.50"))
    view = catalog.get_order(db, str(order))
    assert [ln.position for ln in view.lines] == [0, 1, 2, 3]
    assert [ln.unit_price for ln in view.lines][1:] == [Decimal("1.50")] * 3
    assert [r.external_id for r in view.refunds][-1] == "R-late" and len(view.refunds) == 2


@pytest.mark.parametrize(("currency", "total", "shown"), [("USD", "12.50", "0.00"), ("JPY", "1200", "0")])
def test_order_without_refunds_shows_zero_refunded_like_its_total(db, books, currency, total, shown):
    """A zero refunded amount has the total's decimal places in the view and the
    API; the stored value (and so the record hash) is untouched."""
    from makersync.daemon.api.convert import order_to_proto

    account = books.account()
    store = books.store(account)
    order = books.order(store, total=total)
    RefundRow.delete().where(RefundRow.order == order).execute()
    OrderRow.update(currency=currency).where(OrderRow.id == order).execute()
    refunded_order = books.order(store, total=total)
    OrderRow.update(currency=currency, refunded=Decimal("7.5")).where(OrderRow.id == refunded_order).execute()

    view = catalog.get_order(db, str(order))
    assert order_to_proto(view).refunded.amount == shown
    assert order_to_proto(view).total.amount == total
    listed = {o.id: order_to_proto(o) for o in catalog.list_orders(db, account.id).items}
    assert listed[str(order)].refunded.amount == shown
    assert listed[str(refunded_order)].refunded.amount == "7.5"  # a real refund shows as stored
    stored = OrderRow.select(OrderRow.refunded).where(OrderRow.id == order).tuples().get()[0]
    assert str(stored) == "0"
