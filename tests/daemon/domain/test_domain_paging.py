"""Page tokens are bound to the list and the filters of the first page.

A token reused with another account, store or date filter (or on another list)
would silently page a different list from an arbitrary key; it is refused
naming ``page_token`` instead, while paging with the same filters (any page
size) still visits every item exactly once.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from makersync.daemon.domain import accounts, catalog, integrations, pulls
from makersync.daemon.domain.errors import InvalidArgument
from makersync.daemon.domain.views import Page

Lister = Callable[[int, str], Page[Any]]


def _world(db, books, clock, plans) -> dict[str, Any]:
    """Two accounts; the first with two stores, dated orders and fees, products,
    locations, integrations and several pulls; the second with a little of each."""
    mine, theirs = books.account(), books.account()
    books.account()  # a third, so the account list has pages too
    etsy, shopify = books.store(mine, "etsy"), books.store(mine, "shopify")
    books.store(mine, "amazon")
    other_store = books.store(theirs, "etsy")
    base = datetime(2026, 5, 1, 10, tzinfo=UTC)
    for i in range(7):
        when = base + timedelta(days=i // 2)  # equal times in pairs
        books.order(etsy if i % 3 else shopify, placed_at=when)
        books.fee(etsy if i % 3 else shopify, occurred_at=when)
        books.product(mine, sku=f"SKU-{i}")
        accounts.create_location(db, clock, mine.id, f"Shelf {i}")
    books.order(other_store, placed_at=base)
    books.fee(other_store, occurred_at=base)
    books.product(theirs, sku="THEIRS")
    accounts.create_location(db, clock, theirs.id, "Their shelf")
    for day in range(1, 6):
        clock.advance(1)
        pulls.request_manual_pull(db, clock, plans, etsy.id, f"2026-05-0{day}", f"2026-05-0{day}")
    return {"mine": mine.id, "theirs": theirs.id, "etsy": etsy.id, "shopify": shopify.id,
            "other_store": other_store.id}


# name -> (the list under test, the same list with other filters or another list)
CASES: dict[str, Callable[[Any, dict[str, Any]], tuple[Lister, list[Lister]]]] = {
    "accounts": lambda db, w: (
        lambda size, token: accounts.list_accounts(db, w["clock"], w["plans"], size, token),
        [lambda size, token: accounts.list_locations(db, w["mine"], size, token)],
    ),
    "locations": lambda db, w: (
        lambda size, token: accounts.list_locations(db, w["mine"], size, token),
        [lambda size, token: accounts.list_locations(db, w["theirs"], size, token),
         lambda size, token: catalog.list_products(db, w["mine"], size, token)],
    ),
    "integrations": lambda db, w: (
        lambda size, token: integrations.list_integrations(db, w["mine"], size, token),
        [lambda size, token: integrations.list_integrations(db, w["theirs"], size, token),
         lambda size, token: accounts.list_locations(db, w["mine"], size, token)],
    ),
    "stores": lambda db, w: (
        lambda size, token: integrations.list_stores(db, w["mine"], size, token),
        [lambda size, token: integrations.list_stores(db, None, size, token),
         lambda size, token: integrations.list_stores(db, w["theirs"], size, token)],
    ),
    "pulls": lambda db, w: (
        lambda size, token: pulls.list_pulls(db, w["etsy"], size, token),
        [lambda size, token: pulls.list_pulls(db, w["shopify"], size, token),
         lambda size, token: integrations.list_integrations(db, w["mine"], size, token)],
    ),
    "orders": lambda db, w: (
        lambda size, token: catalog.list_orders(db, w["mine"], page_size=size, page_token=token),
        [lambda size, token: catalog.list_orders(db, w["theirs"], page_size=size, page_token=token),
         lambda size, token: catalog.list_orders(db, w["mine"], w["etsy"], page_size=size, page_token=token),
         lambda size, token: catalog.list_orders(db, w["mine"], "", "2026-05-02", page_size=size,
                                                 page_token=token),
         lambda size, token: catalog.list_orders(db, w["mine"], "", "", "2026-05-03", page_size=size,
                                                 page_token=token),
         lambda size, token: catalog.list_fees(db, w["mine"], page_size=size, page_token=token)],
    ),
    "fees": lambda db, w: (
        lambda size, token: catalog.list_fees(db, w["mine"], page_size=size, page_token=token),
        [lambda size, token: catalog.list_fees(db, w["theirs"], page_size=size, page_token=token),
         lambda size, token: catalog.list_fees(db, w["mine"], w["shopify"], page_size=size, page_token=token),
         lambda size, token: catalog.list_fees(db, w["mine"], "", "2026-05-02", page_size=size,
                                               page_token=token),
         lambda size, token: catalog.list_orders(db, w["mine"], page_size=size, page_token=token)],
    ),
    "products": lambda db, w: (
        lambda size, token: catalog.list_products(db, w["mine"], size, token),
        [lambda size, token: catalog.list_products(db, w["theirs"], size, token),
         lambda size, token: accounts.list_accounts(db, w["clock"], w["plans"], size, token)],
    ),
}


def _all_pages(lister: Lister, size: int) -> tuple[list[str], list[str]]:
    seen, tokens, token = [], [], ""
    while True:
        page = lister(size, token)
        seen += [str(item.id) for item in page.items]
        token = page.next_page_token
        if not token:
            return seen, tokens
        tokens.append(token)


@pytest.mark.parametrize("name", sorted(CASES))
def test_list_token_refused_when_filters_differ(db, books, clock, plans, name):
    """Every list: its token used with other filters, or on another list, is
    refused naming page_token; the same filters page on normally."""
    world = {**_world(db, books, clock, plans), "clock": clock, "plans": plans}
    lister, others = CASES[name](db, world)
    whole, _ = _all_pages(lister, 1000)
    assert len(whole) >= 3
    paged, tokens = _all_pages(lister, 2)
    assert paged == whole and len(set(paged)) == len(paged)  # every item exactly once, same order
    assert lister(3, tokens[0]).items  # another page size keeps the token valid
    for other in others:
        with pytest.raises(InvalidArgument) as err:
            other(2, tokens[0])
        assert err.value.field == "page_token"
        assert "another request" in str(err.value)


@pytest.mark.parametrize("token", [
    base64.urlsafe_b64encode(b"[3]").decode().rstrip("="),  # a token of before the binding
    base64.urlsafe_b64encode(b'{"k":[3],"s":7}').decode(),
    "not a token",
])
def test_list_token_refused_when_not_ours(db, books, token):
    """Old-format and malformed tokens are refused naming page_token, not read as a key."""
    account = books.account()
    with pytest.raises(InvalidArgument) as err:
        accounts.list_locations(db, account.id, 2, token)
    assert err.value.field == "page_token"
