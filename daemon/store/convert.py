"""Rows to views: where peewee rows become plain dataclasses (orders, read as
tuples for speed, become views in ``order_reads``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from makersync.daemon import rules
from makersync.daemon.domain.views import (
    AccountView,
    FeeView,
    IntegrationView,
    ListingView,
    LocationView,
    ProductView,
    PullView,
    StoreView,
)
from makersync.daemon.store.models import (
    AccountRow,
    FeeRow,
    IntegrationRow,
    ListingRow,
    LocationRow,
    ProductRow,
    PullRow,
    SetAsideRow,
    StoreRow,
)

SET_ASIDE_SHOWN = 100


def sid(value: int | None) -> str:
    """An id as the views carry it ('' for none)."""
    return "" if value is None else str(value)


def account_view(
    row: AccountRow, plans: Mapping[str, rules.Plan], now: datetime, stores_connected: int
) -> AccountView:
    plan = plans.get(row.plan)
    lookback = plan.lookback_days if plan else 0
    floor, reason = rules.floor_date(row.start_date, rules.today_in(row.time_zone, now), lookback)
    return AccountView(
        id=str(row.id),
        name=row.name,
        plan=row.plan,
        start_date=row.start_date,
        time_zone=row.time_zone,
        daily_pull_hour=row.daily_pull_hour,
        floor_date=floor,
        floor_reason=reason,
        created_at=row.created_at,
        max_stores=plan.max_stores if plan else 0,
        stores_connected=stores_connected,
    )


def location_view(row: LocationRow) -> LocationView:
    return LocationView(str(row.id), str(row.account_id), row.name, row.created_at)


def pull_view(row: PullRow, channel: str, set_aside: Iterable[SetAsideRow] = ()) -> PullView:
    return PullView(
        id=str(row.id),
        store_id=str(row.store_id),
        account_id=str(row.account_id),
        channel=channel,
        kind=row.kind,
        dry_run=row.dry_run,
        state=row.state,
        window_start=row.window_start,
        window_end=row.window_end,
        modified_since=row.modified_since,
        start_date=row.start_date or "",
        end_date=row.end_date or "",
        progress=dict(row.progress or {}),
        counts=dict(row.counts or {}),
        requests_made=row.requests_made,
        throttled=row.throttled,
        error=row.error,
        warnings=list(row.warnings or []),
        set_aside=[
            {"kind": s.kind, "external_id": s.external_id, "reason": s.reason} for s in set_aside
        ],
        set_aside_count=row.set_aside_count,
        waiting_reason=row.waiting_reason,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def store_view(row: StoreRow, last_pull: PullView | None, initial_pull_id: str = "") -> StoreView:
    return StoreView(
        id=str(row.id),
        integration_id=str(row.integration_id),
        account_id=str(row.account_id),
        channel=row.channel,
        external_shop_id=row.external_shop_id,
        name=row.name,
        currency=row.currency,
        connected_at=row.connected_at,
        state=row.state,
        warnings=list(row.warnings or []),
        reachable_since=row.reachable_since,
        reach=None if row.reach_s is None else timedelta(seconds=row.reach_s),
        last_error=row.last_error,
        last_pull=last_pull,
        next_automatic_pull_at=row.next_automatic_pull_at,
        initial_pull_id=initial_pull_id,
    )


def integration_view(row: IntegrationRow, stores: list[StoreView]) -> IntegrationView:
    return IntegrationView(
        id=str(row.id),
        account_id=str(row.account_id),
        channel=row.channel,
        automatic_updates=row.automatic_updates,
        automatic_shipped_date=row.automatic_shipped_date,
        automatic_shipped_date_since=row.automatic_shipped_date_since,
        default_location_id=sid(row.default_location_id),
        created_at=row.created_at,
        stores=stores,
    )


def listing_view(row: ListingRow, channel: str) -> ListingView:
    return ListingView(
        id=str(row.id),
        account_id=str(row.account_id),
        store_id=str(row.store_id),
        channel=channel,
        external_id=row.external_id,
        external_variation_id=row.external_variation_id,
        sku=row.sku,
        title=row.title,
        product_id=str(row.product_id),
        matched_by=row.matched_by,
        state=row.state,
        price=row.price,
        currency=row.currency,
        last_pull_id=sid(row.last_pull_id),
    )


def product_view(row: ProductRow, listings: list[ListingView]) -> ProductView:
    return ProductView(
        id=str(row.id),
        account_id=str(row.account_id),
        sku=row.sku,
        title=row.title,
        created_by=row.created_by,
        created_by_pull_id=sid(row.created_by_pull_id),
        created_at=row.created_at,
        listings=listings,
    )


def fee_view(row: FeeRow, product_id: int | None) -> FeeView:
    return FeeView(
        id=str(row.id),
        account_id=str(row.account_id),
        store_id=str(row.store_id),
        order_id=sid(row.order_id),
        listing_id=sid(row.listing_id),
        product_id=sid(product_id),
        external_id=row.external_id,
        kind=row.kind,
        channel_kind=row.channel_kind,
        amount=row.amount,
        currency=row.currency,
        occurred_at=row.occurred_at,
        order_external_id=row.order_external_id,
        description=row.description,
        last_pull_id=sid(row.last_pull_id),
    )
