"""The pull row's life: what the engine reads before a pull and writes
after each page (checkpoint, progress, counts) and at its end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from makersync.daemon.store import leases, schedule
from makersync.daemon.store.db import Database
from makersync.daemon.store.models import (
    AccountRow,
    IntegrationRow,
    PullRow,
    SetAsideRow,
    StoreRow,
)
from makersync.plugins.records import SetAside


@dataclass(frozen=True)
class PullPlan:
    """Everything the engine needs to run one pull."""

    pull_id: int
    store_id: int
    account_id: int
    channel: str
    kind: str
    dry_run: bool
    state: str
    window_start: datetime
    window_end: datetime
    modified_since: datetime | None
    as_of: datetime | None
    checkpoint: dict[str, Any] | None
    counts: dict[str, int]
    progress: dict[str, Any]
    requests_made: int
    throttled: int
    set_aside_count: int
    cancel_requested: bool
    credentials_encrypted: str
    store_state: str
    high_water_mark: datetime | None
    reachable_since: datetime | None
    reach: timedelta | None
    account_start_date: date
    account_time_zone: str
    account_plan: str
    default_location_id: int | None
    automatic_shipped_date_since: datetime | None


def load_plan(db: Database, pull_id: int) -> PullPlan | None:
    row = (PullRow.select(PullRow, StoreRow, AccountRow).join(StoreRow).join(AccountRow)
           .where(PullRow.id == pull_id).first())
    if row is None:
        return None
    store: StoreRow = row.store
    account: AccountRow = store.account
    integ = IntegrationRow.get_by_id(store.integration_id)
    since = integ.automatic_shipped_date_since if integ.automatic_shipped_date else None
    return PullPlan(
        pull_id=row.id, store_id=store.id, account_id=account.id, channel=store.channel, kind=row.kind,
        dry_run=row.dry_run, state=row.state, window_start=row.window_start, window_end=row.window_end,
        modified_since=row.modified_since, as_of=row.as_of, checkpoint=row.checkpoint,
        counts=dict(row.counts or {}), progress=dict(row.progress or {}), requests_made=row.requests_made,
        throttled=row.throttled, set_aside_count=row.set_aside_count, cancel_requested=row.cancel_requested,
        credentials_encrypted=store.credentials_encrypted, store_state=store.state,
        high_water_mark=store.high_water_mark, reachable_since=store.reachable_since,
        reach=None if store.reach_s is None else timedelta(seconds=store.reach_s),
        account_start_date=account.start_date, account_time_zone=account.time_zone, account_plan=account.plan,
        default_location_id=integ.default_location_id, automatic_shipped_date_since=since,
    )


def save_window(db: Database, pull_id: int, start: datetime, end: datetime, modified_since: datetime | None,
                as_of: datetime, warnings: Sequence[str], *, store_id: int = 0,
                lease: tuple[str, int, float] | None = None) -> None:
    """Record the window a pull reads; with ``lease`` = (owner, token, lease_s)
    the lease is checked first (raises LeaseLost, writing nothing)."""
    with db.write_tx():
        if lease is not None:
            leases.check(store_id, lease[0], lease[1], as_of, lease[2])
        PullRow.update(window_start=start, window_end=end, modified_since=modified_since, as_of=as_of,
                       warnings=list(warnings)).where(PullRow.id == pull_id).execute()


def set_waiting_reason(db: Database, pull_id: int, owner: str, token: int, reason: str) -> bool:
    """Say why a running pull waits ('' when it no longer does). Only the
    pull's current lease holder may; False when it is not (lease lost)."""
    with db.write_tx():
        changed = PullRow.update(waiting_reason=reason).where(
            (PullRow.id == pull_id) & (PullRow.state == "running") & (PullRow.lease_owner == owner)
            & (PullRow.fencing_token == token)).execute()
    return bool(changed)


def save_progress(db: Database, pull_id: int, *, checkpoint: Mapping[str, Any] | None = None,
                  counts: Mapping[str, int], progress: Mapping[str, Any], requests_made: int, throttled: int,
                  set_aside: Sequence[SetAside] = (), set_aside_count: int = 0, store_id: int = 0,
                  now: datetime, lease: tuple[str, int, float] | None = None, waiting_reason: str = "") -> None:
    """Record a page's effect on the pull row. Call inside the page's write
    transaction so records and checkpoint commit together (R14); with
    ``lease`` = (owner, token, lease_s) the lease is checked first (fencing)."""
    if lease is not None:
        leases.check(store_id, lease[0], lease[1], now, lease[2])
    fields: dict[str, Any] = dict(counts=dict(counts), progress=dict(progress), requests_made=requests_made,
                                  throttled=throttled, set_aside_count=set_aside_count, heartbeat_at=now,
                                  waiting_reason=waiting_reason)
    if checkpoint is not None:
        fields["checkpoint"] = dict(checkpoint)
    PullRow.update(**fields).where(PullRow.id == pull_id).execute()
    if set_aside:
        SetAsideRow.insert_many([dict(pull=pull_id, store_id=store_id, kind=s.kind, external_id=s.external_id,
                                      reason=s.reason, raw=s.raw, created_at=now) for s in set_aside]).execute()


def cancel_requested(pull_id: int) -> bool:
    row = PullRow.select(PullRow.cancel_requested, PullRow.state).where(PullRow.id == pull_id).first()
    return row is None or row.cancel_requested or row.state == "cancelled"


def finish(db: Database, pull_id: int, *, state: str, error: str, now: datetime,
           high_water: datetime | None = None, store_state: str | None = None,
           lease: tuple[str, int] | None = None) -> None:
    """End a pull; a succeeded initial or automatic pull moves the store's high-water mark.

    With ``lease`` = (owner, token) the lease is checked inside the same
    transaction and released after it: a daemon that lost its lease raises
    LeaseLost and writes nothing (QUALITY S1)."""
    with db.write_tx():
        row = PullRow.get_by_id(pull_id)
        if lease is not None:
            leases.check(row.store_id, lease[0], lease[1], now, 0.0)
        PullRow.update(state=state, error=error, finished_at=now, waiting_reason="").where(
            PullRow.id == pull_id).execute()
        store_fields: dict[str, Any] = {"last_error": error}
        if high_water is not None:
            store_fields["high_water_mark"] = high_water
        if store_state is not None:
            store_fields["state"] = store_state
        StoreRow.update(**store_fields).where(StoreRow.id == row.store_id).execute()
        if lease is not None:
            leases.release_in_tx(row.store_id, lease[0], lease[1], now)
        if store_state is not None:
            schedule.mark_changed(db)  # a store that is not active gets no automatic pulls


def requeue(db: Database, pull_id: int, lease: tuple[str, int], now: datetime) -> None:
    """Put a running pull back in the queue (shutdown at a page boundary); it
    resumes from its checkpoint on this or another daemon. Raises LeaseLost
    (writing nothing) when the lease was lost meanwhile."""
    with db.write_tx():
        row = PullRow.get_by_id(pull_id)
        leases.check(row.store_id, lease[0], lease[1], now, 0.0)
        PullRow.update(state="queued", lease_owner=None, waiting_reason="").where(
            (PullRow.id == pull_id) & (PullRow.state == "running")).execute()
        leases.release_in_tx(row.store_id, lease[0], lease[1], now)
