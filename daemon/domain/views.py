"""Plain result types of the domain services (the api converts them to protobuf).

Conventions: ids are strings (``""`` where there is none, e.g. the store of a
local order); dates are ``datetime.date`` in the account's time zone; instants
are aware UTC ``datetime`` (or None); money is ``Decimal`` with its currency in
the view's ``currency`` field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list call. ``next_page_token`` is '' on the last page;
    ``total_size`` is the count of all matches where the call computes it, else -1.
    Only ListOrders returns a total, so only list_orders counts: a COUNT
    whose result no response carries is a wasted scan on every page."""

    items: list[T]
    next_page_token: str = ""
    total_size: int = -1


@dataclass(frozen=True)
class AccountView:
    id: str
    name: str
    plan: str
    start_date: date
    time_zone: str
    daily_pull_hour: int
    floor_date: date
    floor_reason: str  # 'start_date' | 'lookback' (R2)
    created_at: datetime
    max_stores: int | None  # None = unlimited
    stores_connected: int


@dataclass(frozen=True)
class LocationView:
    id: str
    account_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class PullView:
    id: str
    store_id: str
    account_id: str
    channel: str
    kind: str  # 'initial' | 'automatic' | 'manual'
    dry_run: bool
    state: str  # 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
    window_start: datetime
    window_end: datetime
    modified_since: datetime | None
    start_date: str  # manual pulls: 'YYYY-MM-DD', else ''
    end_date: str
    progress: dict[str, Any]  # stage, pages_done, records_done, ...
    counts: dict[str, int]  # keys as in the proto's PullCounts
    requests_made: int
    throttled: int
    error: str
    warnings: list[str]
    set_aside: list[dict[str, str]]  # {kind, external_id, reason}
    set_aside_count: int
    waiting_reason: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class StoreView:
    id: str
    integration_id: str
    account_id: str
    channel: str
    external_shop_id: str
    name: str
    currency: str
    connected_at: datetime
    state: str  # 'active' | 'needs_reconnect'
    warnings: list[str]
    reachable_since: datetime | None  # the fixed limit the channel declared; see rules.reachable_since
    reach: timedelta | None  # the rolling one (R2)
    last_error: str
    last_pull: PullView | None
    next_automatic_pull_at: datetime | None
    initial_pull_id: str  # '' if none


@dataclass(frozen=True)
class IntegrationView:
    id: str
    account_id: str
    channel: str
    automatic_updates: bool
    automatic_shipped_date: bool
    automatic_shipped_date_since: datetime | None
    default_location_id: str  # '' = none
    created_at: datetime
    stores: list[StoreView] = field(default_factory=list)


@dataclass(frozen=True)
class OrderLineView:
    id: str
    position: int
    external_id: str
    listing_id: str
    listing_external_id: str
    variation_external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    product_id: str


@dataclass(frozen=True)
class RefundView:
    external_id: str
    amount: Decimal
    created_at: datetime | None
    reason: str


@dataclass(frozen=True)
class AdjustmentView:
    external_id: str
    kind: str
    amount: Decimal
    created_at: datetime | None
    note: str


@dataclass(frozen=True)
class OverwriteView:
    pull_id: str
    overwritten_at: datetime
    local_values: dict[str, str]


@dataclass(frozen=True)
class OrderView:
    id: str
    account_id: str
    store_id: str  # '' for a local order
    channel: str
    external_id: str  # '' for a local order
    order_number: str
    status: str  # records.OrderStatus value
    channel_status: str
    placed_at: datetime
    modified_at: datetime | None
    shipped_at: datetime | None
    cancelled_at: datetime | None
    location_id: str
    currency: str
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    discount: Decimal
    total: Decimal
    refunded: Decimal
    fulfillment: str
    note: str
    locally_edited: bool
    last_pull_id: str
    copied_from_order_id: str
    lines: list[OrderLineView] = field(default_factory=list)
    refunds: list[RefundView] = field(default_factory=list)
    adjustments: list[AdjustmentView] = field(default_factory=list)
    overwrites: list[OverwriteView] = field(default_factory=list)


@dataclass(frozen=True)
class ListingView:
    id: str
    account_id: str
    store_id: str
    channel: str
    external_id: str
    external_variation_id: str
    sku: str
    title: str
    product_id: str
    matched_by: str  # 'sku' | 'title' | 'created' | 'moved' (R9)
    state: str
    price: Decimal | None
    currency: str
    last_pull_id: str


@dataclass(frozen=True)
class ProductView:
    id: str
    account_id: str
    sku: str
    title: str
    created_by: str  # 'maker' | 'pull'
    created_by_pull_id: str
    created_at: datetime
    listings: list[ListingView] = field(default_factory=list)


@dataclass(frozen=True)
class FeeView:
    id: str
    account_id: str
    store_id: str
    order_id: str
    listing_id: str
    product_id: str
    external_id: str
    kind: str  # records.FeeKind value
    channel_kind: str
    amount: Decimal
    currency: str
    occurred_at: datetime
    order_external_id: str
    description: str
    last_pull_id: str


@dataclass(frozen=True)
class DisconnectResult:
    """What disconnecting a store removed (R3)."""

    store_id: str
    orders_removed: int
    order_lines_removed: int
    fees_removed: int
    listings_removed: int
    products_removed: int
    products_kept: int
    pulls_removed: int
    tombstones_removed: int
