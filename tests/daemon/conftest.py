"""Fixtures for the daemon's store and domain tests.

``db`` is a migrated database, once on a SQLite file in ``tmp_path`` and once
on PostgreSQL (a fresh schema per test on ``MAKERSYNC_TEST_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``). Without a reachable server the
PostgreSQL half is skipped, saying so, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from makersync.daemon.domain import accounts, integrations
from makersync.daemon.domain.views import AccountView, StoreView
from makersync.daemon.rules import DEFAULT_PLANS
from makersync.daemon.store import migrations
from makersync.daemon.store.db import Database, open_database
from makersync.daemon.store.models import (
    FeeRow,
    ListingRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    RefundRow,
)
from makersync.daemon.store.secrets import SecretBox, generate_key
from makersync.plugins.clock import FakeClock
from tests.pg import fresh_schema

CHANNELS = ("etsy", "shopify", "amazon")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = open_database(None, tmp_path)
    migrations.migrate(db)
    yield db
    db.close()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections all use a fresh, empty schema."""
    yield from fresh_schema("t")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_db")
        return
    url = request.getfixturevalue("pg_schema_url")
    database = open_database(url, tmp_path)
    migrations.migrate(database)
    yield database
    database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def plans() -> dict[str, Any]:
    return dict(DEFAULT_PLANS)


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([generate_key()])


class Books:
    """Builds accounts, stores and pulled records for tests (the engine's
    writes are not ours to test here, so pulled rows are inserted directly)."""

    def __init__(self, db: Database, clock: FakeClock, plans: dict[str, Any], box: SecretBox):
        self.db, self.clock, self.plans, self.box = db, clock, plans, box
        self._n = 0

    def account(self, plan: str = "studio", start_date: str = "2026-01-01",
                time_zone: str = "Europe/Berlin") -> AccountView:
        return accounts.create_account(
            self.db, self.clock, self.plans, "Maker", plan, start_date, time_zone
        )

    def store(self, account: AccountView, channel: str = "etsy", shop: str = "",
              credentials: dict[str, str] | None = None) -> StoreView:
        self._n += 1
        return integrations.record_store(
            self.db, self.clock, self.plans, self.box, account.id, channel, CHANNELS,
            external_shop_id=shop or f"shop-{self._n}", shop_name=f"Shop {self._n}",
            credentials=credentials or {"token": f"tok-{self._n}"},
        )

    def product(self, account: AccountView, sku: str = "", title: str = "Mug",
                created_by: str = "pull", store: StoreView | None = None) -> int:
        return int(ProductRow.create(
            account=int(account.id), sku=sku, sku_norm=sku.strip().casefold(), title=title,
            title_norm=" ".join(title.split()).casefold(), created_by=created_by,
            created_by_store_id=int(store.id) if store else None, created_at=self.clock.now(),
        ).id)

    def listing(self, store: StoreView, product_id: int, external_id: str = "",
                matched_by: str = "created") -> int:
        self._n += 1
        now = self.clock.now()
        return int(ListingRow.create(
            account=int(store.account_id), store=int(store.id),
            external_id=external_id or f"L{self._n}", sku="", title="Mug", currency="EUR",
            product=product_id, matched_by=matched_by, created_at=now, updated_at=now,
        ).id)

    def order(self, store: StoreView, external_id: str = "", placed_at: datetime | None = None,
              listing_id: int | None = None, product_id: int | None = None,
              total: str = "10.00") -> int:
        self._n += 1
        now = self.clock.now()
        order_id = int(OrderRow.create(
            account=int(store.account_id), store=int(store.id), channel=store.channel,
            external_id=external_id or f"O{self._n}", order_number=f"#{self._n}",
            status="paid", placed_at=placed_at or now, currency="EUR",
            subtotal=Decimal(total), total=Decimal(total), created_at=now, updated_at=now,
        ).id)
        OrderLineRow.create(order=order_id, position=0, listing=listing_id, product=product_id,
                            sku="MUG", title="Mug", quantity=1, unit_price=Decimal(total))
        RefundRow.create(order=order_id, external_id=f"R{self._n}", amount=Decimal("1.00"))
        return order_id

    def fee(self, store: StoreView, external_id: str = "", occurred_at: datetime | None = None,
            amount: str = "0.20", listing_id: int | None = None) -> int:
        self._n += 1
        now = self.clock.now()
        return int(FeeRow.create(
            account=int(store.account_id), store=int(store.id),
            external_id=external_id or f"F{self._n}", kind="transaction",
            channel_kind="transaction", amount=Decimal(amount), currency="EUR",
            occurred_at=occurred_at or now, listing=listing_id, created_at=now, updated_at=now,
        ).id)


@pytest.fixture
def books(db: Database, clock: FakeClock, plans: dict[str, Any], box: SecretBox) -> Books:
    return Books(db, clock, plans, box)


def snapshot() -> dict[str, int]:
    """Row counts of every table: equal before and after means nothing was written."""
    from makersync.daemon.store.models import ALL_MODELS

    return {m._meta.table_name: m.select().count() for m in ALL_MODELS}


@pytest.fixture
def rows() -> Any:
    return snapshot
