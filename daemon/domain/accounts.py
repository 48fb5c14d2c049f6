"""Accounts and locations (R1, R2, R3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from makersync.daemon import rules
from makersync.daemon.domain import paging
from makersync.daemon.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from makersync.daemon.domain.paging import parse_id
from makersync.daemon.domain.views import AccountView, LocationView, Page
from makersync.daemon.store import accounts as q
from makersync.daemon.store import integrations as qi
from makersync.daemon.store import schedule
from makersync.plugins.clock import Clock

if TYPE_CHECKING:
    from makersync.daemon.rules import Plan
    from makersync.daemon.store.db import Database

MAX_NAME_LEN = 200


def _name(value: str, field: str = "name") -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidArgument(field, "is required")
    if len(name) > MAX_NAME_LEN:
        raise InvalidArgument(field, f"must be at most {MAX_NAME_LEN} characters")
    return name


def require_account(
    db: Database, clock: Clock, plans: Mapping[str, Plan], account_id: str
) -> AccountView:
    """The account or NotFound naming ``account_id`` (used by the other services)."""
    ident = parse_id(account_id, "account_id", "account")
    view = q.fetch_account(db, plans, clock.now(), ident)
    if view is None:
        raise NotFound("account_id", f"no account {account_id!r}")
    return view


def create_account(
    db: Database,
    clock: Clock,
    plans: Mapping[str, Plan],
    name: str,
    plan: str,
    start_date: str,
    time_zone: str,
    daily_pull_hour: int | None = None,
) -> AccountView:
    """Create an account. ``start_date`` is 'YYYY-MM-DD'; ``time_zone`` an IANA
    name; ``daily_pull_hour`` 0-23 (default 5, R1).

    Raises InvalidArgument (name empty, unknown plan, bad date/zone/hour, a
    start date after today in ``time_zone``, R3)."""
    name = _name(name)
    rules.validate_plan(plan, plans)
    start = rules.parse_date(start_date, "start_date")
    zone = rules.validate_time_zone(time_zone)
    hour = rules.DEFAULT_DAILY_PULL_HOUR if daily_pull_hour is None else daily_pull_hour
    rules.validate_daily_pull_hour(hour)
    now = clock.now()
    rules.validate_start_date(start, rules.today_in(zone, now))
    with db.write_tx():
        ident = q.insert_account(db, now, name, plan, start, time_zone, hour)
        view = q.fetch_account(db, plans, now, ident)
    assert view is not None
    return view


def get_account(db: Database, clock: Clock, plans: Mapping[str, Plan], account_id: str) -> AccountView:
    """The account with its floor (R2) and store counts. Raises NotFound."""
    return require_account(db, clock, plans, account_id)


def list_accounts(
    db: Database,
    clock: Clock,
    plans: Mapping[str, Plan],
    page_size: int = 0,
    page_token: str = "",
) -> Page[AccountView]:
    """Accounts by id. page_size 0 = 50, max 1000. Raises InvalidArgument (page_size, page_token)."""
    size = paging.page_size(page_size)
    return q.list_accounts(db, plans, clock.now(), size, page_token)


def update_account(
    db: Database,
    clock: Clock,
    plans: Mapping[str, Plan],
    account_id: str,
    *,
    name: str | None = None,
    plan: str | None = None,
    start_date: str | None = None,
    time_zone: str | None = None,
    daily_pull_hour: int | None = None,
) -> AccountView:
    """Change the given fields (None = leave).

    Raises NotFound; InvalidArgument (a start date after today in the
    account's, or the new, time zone: R3); FailedPrecondition when the start date
    changes while a store is connected (R3: disconnect first) or the new plan
    allows fewer stores than are connected (R1) or no default location while
    an integration names one (R8: clear it first)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name)
    new_plan = rules.validate_plan(plan, plans) if plan is not None else None
    new_start = rules.parse_date(start_date, "start_date") if start_date is not None else None
    if time_zone is not None:
        rules.validate_time_zone(time_zone)
        changes["time_zone"] = time_zone
    if daily_pull_hour is not None:
        changes["daily_pull_hour"] = rules.validate_daily_pull_hour(daily_pull_hour)
    with db.write_tx():
        ident = parse_id(account_id, "account_id", "account")
        qi.lock_account(db, ident)
        current = require_account(db, clock, plans, account_id)
        if new_start is not None:
            zone = time_zone if time_zone is not None else current.time_zone
            rules.validate_start_date(new_start, rules.today_in(zone, clock.now()))
        if new_start is not None and new_start != current.start_date:
            if current.stores_connected:
                raise FailedPrecondition(
                    "start_date",
                    f"cannot change while {current.stores_connected} store(s) are connected; "
                    "disconnect them first, then change the start date and reconnect",
                    "R3",
                )
            changes["start_date"] = new_start
        if new_plan is not None and new_plan.name != current.plan:
            limit = new_plan.max_stores
            if limit is not None and current.stores_connected > limit:
                raise FailedPrecondition(
                    "plan",
                    f"plan {new_plan.name} allows {limit} store(s) but "
                    f"{current.stores_connected} are connected; disconnect some first",
                    "R1",
                )
            if not new_plan.default_location_allowed:
                _refuse_plan_with_default_locations(db, ident, new_plan.name)
            changes["plan"] = new_plan.name
            old_plan = plans.get(current.plan)
            if new_plan.cadence != "none" and (old_plan is None or old_plan.cadence == "none"):
                # Off was only the manual-only plan's default (R5); the new plan has a cadence.
                qi.set_automatic_updates_for_account(db, ident, True)
        q.update_account(db, ident, changes)
        if changes.keys() & {"plan", "time_zone", "daily_pull_hour"}:
            schedule.clear_future_slots(db, ident, clock.now())  # the new cadence applies at once (R1)
            schedule.mark_changed(db)
        view = q.fetch_account(db, plans, clock.now(), ident)
    assert view is not None
    return view


def _refuse_plan_with_default_locations(db: Database, account_id: int, plan_name: str) -> None:
    """R8: a plan without default locations cannot be taken while an
    integration names one. Refused rather than cleared, like the store limit
    (R1): the setting decides where orders are placed, so the maker clears it."""
    named = qi.default_locations(db, account_id)
    if named:
        which = ", ".join(f"{channel} (location {loc})" for channel, loc in named)
        raise FailedPrecondition(
            "plan",
            f"plan {plan_name} does not allow a default location but integration(s) {which} "
            "name one; clear their default location first (Configure with "
            "default_location_id empty), then change the plan",
            "R8",
        )


def create_location(db: Database, clock: Clock, account_id: str, name: str) -> LocationView:
    """A named location of the account. Raises NotFound, InvalidArgument (name), AlreadyExists."""
    location_name = _name(name)
    ident = parse_id(account_id, "account_id", "account")
    with db.write_tx():
        if not q.account_exists(db, ident):
            raise NotFound("account_id", f"no account {account_id!r}")
        if q.location_name_taken(db, ident, location_name):
            raise AlreadyExists("name", f"the account already has a location {location_name!r}")
        return q.insert_location(db, clock.now(), ident, location_name)


def list_locations(
    db: Database, account_id: str, page_size: int = 0, page_token: str = ""
) -> Page[LocationView]:
    """The account's locations by id. Raises NotFound, InvalidArgument."""
    size = paging.page_size(page_size)
    ident = parse_id(account_id, "account_id", "account")
    with db.read_tx():
        if not q.account_exists(db, ident):
            raise NotFound("account_id", f"no account {account_id!r}")
        return q.list_locations(db, ident, size, page_token)
