"""Pulls, read side and queueing (R2, R4). The engine (daemon/engine) runs them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from makersync.daemon import rules
from makersync.daemon.domain import paging
from makersync.daemon.domain.accounts import require_account
from makersync.daemon.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from makersync.daemon.domain.paging import parse_id
from makersync.daemon.domain.views import Page, PullView
from makersync.daemon.store import integrations as qi
from makersync.daemon.store import pulls as q
from makersync.plugins.clock import Clock

if TYPE_CHECKING:
    from makersync.daemon.rules import Plan
    from makersync.daemon.store.db import Database

PULL_KINDS = ("initial", "automatic", "manual")


def get_pull(db: Database, pull_id: str) -> PullView:
    """One pull. Raises NotFound."""
    ident = parse_id(pull_id, "pull_id", "pull")
    with db.read_tx():
        view = q.fetch_pull(db, ident)
    if view is None:
        raise NotFound("pull_id", f"no pull {pull_id!r}")
    return view


def list_pulls(db: Database, store_id: str, page_size: int = 0, page_token: str = "") -> Page[PullView]:
    """The store's pulls, newest first. Raises NotFound, InvalidArgument."""
    size = paging.page_size(page_size)
    ident = parse_id(store_id, "store_id", "store")
    with db.read_tx():
        store = qi.fetch_store(db, ident)
        if store is None:
            raise NotFound("store_id", f"no store {store_id!r}")
        return q.list_pulls(db, ident, store.channel, size, page_token)


def request_manual_pull(
    db: Database,
    clock: Clock,
    plans: Mapping[str, Plan],
    store_id: str,
    start_date: str,
    end_date: str,
    dry_run: bool = False,
) -> PullView:
    """Validate a manual pull (R4: dates 'YYYY-MM-DD' in the account's zone,
    at most 30 days inclusive, end not after today, start not after end, start
    on or after the floor, R2) and queue it. It waits its turn behind any
    running pull of the store (R4).

    Raises NotFound, InvalidArgument, FailedPrecondition (before the floor)."""
    ident = parse_id(store_id, "store_id", "store")
    start = rules.parse_date(start_date, "start_date")
    end = rules.parse_date(end_date, "end_date")
    now = clock.now()
    with db.write_tx():
        store = qi.fetch_store(db, ident)
        if store is None:
            raise NotFound("store_id", f"no store {store_id!r}")
        account = require_account(db, clock, plans, store.account_id)
        plan = plans.get(account.plan)
        if plan is None:
            raise FailedPrecondition(
                "plan", f"the account's plan {account.plan!r} is not in the plan table", "R1"
            )
        today = rules.today_in(account.time_zone, now)
        rules.validate_manual_range(
            start, end, today, account.floor_date, account.floor_reason, plan.lookback_days
        )
        window_start = rules.day_start_utc(start, account.time_zone)
        window_end = min(rules.day_start_utc(end + timedelta(days=1), account.time_zone), now)
        pull_id = q.insert_pull(
            db,
            now,
            ident,
            int(account.id),
            "manual",
            window_start,
            window_end,
            {
                "dry_run": bool(dry_run),
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "priority": 20,
            },
        )
        view = q.fetch_pull(db, pull_id)
    assert view is not None
    return view


def enqueue_pull(
    db: Database,
    clock: Clock,
    store_id: str,
    kind: str,
    window_start: datetime,
    window_end: datetime,
    *,
    modified_since: datetime | None = None,
    start_date: str = "",
    end_date: str = "",
    dry_run: bool = False,
    priority: int = 0,
) -> PullView:
    """Create a queued pull (no rule checks beyond the window's shape; callers
    such as the scheduler decide the window). Raises NotFound, InvalidArgument."""
    ident = parse_id(store_id, "store_id", "store")
    if kind not in PULL_KINDS:
        raise InvalidArgument("kind", f"must be one of {', '.join(PULL_KINDS)}, got {kind!r}")
    for name, value in (("window_start", window_start), ("window_end", window_end)):
        if value.tzinfo is None:
            raise InvalidArgument(name, "must be an aware datetime")
    if window_end <= window_start:
        raise InvalidArgument("window_end", "must be after window_start")
    now = clock.now()
    with db.write_tx():
        store = qi.fetch_store(db, ident)
        if store is None:
            raise NotFound("store_id", f"no store {store_id!r}")
        pull_id = q.insert_pull(
            db,
            now,
            ident,
            int(store.account_id),
            kind,
            window_start,
            window_end,
            {
                "dry_run": bool(dry_run),
                "modified_since": modified_since,
                "start_date": start_date or None,
                "end_date": end_date or None,
                "priority": priority,
            },
        )
        view = q.fetch_pull(db, pull_id)
    assert view is not None
    return view


def cancel_pull(db: Database, clock: Clock, pull_id: str) -> PullView:
    """Cancel a queued pull at once; a running pull is asked to stop at its
    next page boundary (its state becomes 'cancelled' when it does). A
    finished pull is returned unchanged. Raises NotFound."""
    ident = parse_id(pull_id, "pull_id", "pull")
    with db.write_tx():
        if q.fetch_pull(db, ident) is None:
            raise NotFound("pull_id", f"no pull {pull_id!r}")
        q.cancel_pull(db, clock.now(), ident)
        view = q.fetch_pull(db, ident)
    assert view is not None
    return view


SYNC_PRIORITY = 15
"""A sync asked for by a person runs before scheduled automatic pulls, after manual ones."""


def request_sync(db: Database, clock: Clock, store_id: str) -> PullView:
    """Queue an automatic pull of the store now (R5): the engine reads what
    changed since the last successful pull when it starts. Raises NotFound,
    FailedPrecondition (the store needs reconnecting)."""
    ident = parse_id(store_id, "store_id", "store")
    with db.read_tx():
        store = qi.fetch_store(db, ident)
    if store is None:
        raise NotFound("store_id", f"no store {store_id!r}")
    if store.state != "active":
        raise FailedPrecondition("store_id", "the store needs reconnecting: connect it again with new credentials",
                                 "R5")
    now = clock.now()
    # the window is set by the engine when the pull starts; this one only has a valid shape
    return enqueue_pull(db, clock, store_id, "automatic", now - timedelta(seconds=1), now,
                        priority=SYNC_PRIORITY)
