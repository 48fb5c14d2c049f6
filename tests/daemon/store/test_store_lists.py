"""List calls count only what their response returns (QUALITY P6): only
ListOrders carries ``total_size``; every other list reads its page and no more."""

from __future__ import annotations

from typing import Any

import pytest

from makersync.daemon.domain import accounts, catalog, integrations, pulls


@pytest.fixture
def statements(db: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the database runs from now on."""
    seen: list[str] = []
    execute = db.pw.execute_sql

    def record(sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return execute(sql, *args, **kwargs)

    monkeypatch.setattr(db.pw, "execute_sql", record)
    return seen


def test_lists_without_a_total_run_no_count(db, clock, plans, books, statements):
    """ListFees, ListProducts, ListIntegrations, ListLocations, the stores and
    pulls of an account: same pages as before, and not one COUNT behind them."""
    account = books.account()
    store = books.store(account)
    books.product(account)
    books.fee(store)
    accounts.create_location(db, clock, account.id, "Studio")
    statements.clear()

    pages = {
        "fees": catalog.list_fees(db, account.id),
        "products": catalog.list_products(db, account.id),
        "integrations": integrations.list_integrations(db, account.id),
        "stores": integrations.list_stores(db, account.id),
        "locations": accounts.list_locations(db, account.id),
        "pulls": pulls.list_pulls(db, store.id),
    }

    assert {name: len(page.items) for name, page in pages.items()} == {
        "fees": 1, "products": 1, "integrations": 1, "stores": 1, "locations": 1, "pulls": 1}
    assert all(page.next_page_token == "" for page in pages.values())
    assert [s for s in statements if "COUNT(" in s.upper()] == []


def test_list_accounts_counts_stores_per_account_but_no_total(db, clock, plans, books, statements):
    """ListAccounts returns each account's connected stores, not a total."""
    account = books.account()
    books.store(account)
    statements.clear()
    page = accounts.list_accounts(db, clock, plans)
    assert [a.stores_connected for a in page.items] == [1]
    assert [s for s in statements if "COUNT(" in s.upper() and "GROUP BY" not in s.upper()] == []
