"""Queries for accounts and locations. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import peewee as pw

from makersync.daemon import rules
from makersync.daemon.domain.views import AccountView, LocationView, Page
from makersync.daemon.store.convert import account_view, location_view
from makersync.daemon.store.db import Database
from makersync.daemon.store.models import AccountRow, LocationRow, StoreRow
from makersync.daemon.store.pages import keyset_page


def count_stores(db: Database, account_id: int) -> int:
    """Stores the account has connected (R1)."""
    return StoreRow.select().where(StoreRow.account == account_id).count()


def _store_counts(account_ids: list[int]) -> dict[int, int]:
    if not account_ids:
        return {}
    query: Any = (
        StoreRow.select(StoreRow.account, pw.fn.COUNT(StoreRow.id).alias("n"))
        .where(StoreRow.account.in_(account_ids))
        .group_by(StoreRow.account)
        .tuples()
    )
    return {account: n for account, n in query}


def fetch_account(
    db: Database, plans: Mapping[str, rules.Plan], now: datetime, account_id: int
) -> AccountView | None:
    row = AccountRow.get_or_none(AccountRow.id == account_id)
    if row is None:
        return None
    return account_view(row, plans, now, count_stores(db, account_id))


def insert_account(
    db: Database,
    now: datetime,
    name: str,
    plan: str,
    start_date: date,
    time_zone: str,
    daily_pull_hour: int,
) -> int:
    row = AccountRow.create(
        name=name,
        plan=plan,
        start_date=start_date,
        time_zone=time_zone,
        daily_pull_hour=daily_pull_hour,
        created_at=now,
    )
    return int(row.id)


def update_account(db: Database, account_id: int, fields: Mapping[str, Any]) -> None:
    if fields:
        AccountRow.update(**dict(fields)).where(AccountRow.id == account_id).execute()


def list_accounts(
    db: Database, plans: Mapping[str, rules.Plan], now: datetime, size: int, token: str
) -> Page[AccountView]:
    rows, next_token = keyset_page(AccountRow.select(), [AccountRow.id], size, token, ("accounts",))
    counts = _store_counts([r.id for r in rows])
    items = [account_view(r, plans, now, counts.get(r.id, 0)) for r in rows]
    return Page(items, next_token)


def fetch_location(db: Database, location_id: int) -> LocationView | None:
    row = LocationRow.get_or_none(LocationRow.id == location_id)
    return None if row is None else location_view(row)


def location_name_taken(db: Database, account_id: int, name: str) -> bool:
    # compared in Python: SQLite's LOWER() folds ASCII letters only
    wanted = name.strip().casefold()
    names = LocationRow.select(LocationRow.name).where(LocationRow.account == account_id).tuples()
    return any(existing.strip().casefold() == wanted for (existing,) in names)


def insert_location(db: Database, now: datetime, account_id: int, name: str) -> LocationView:
    row = LocationRow.create(account=account_id, name=name, created_at=now)
    return location_view(row)


def list_locations(db: Database, account_id: int, size: int, token: str) -> Page[LocationView]:
    query = LocationRow.select().where(LocationRow.account == account_id)
    rows, next_token = keyset_page(query, [LocationRow.id], size, token, ("locations", account_id))
    return Page([location_view(r) for r in rows], next_token)


def account_exists(db: Database, account_id: int) -> bool:
    return AccountRow.select().where(AccountRow.id == account_id).exists()
