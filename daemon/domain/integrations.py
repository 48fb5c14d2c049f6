"""Integrations and stores: settings (R5, R6, R8), connect (R1), disconnect (R3)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from makersync.daemon import rules
from makersync.daemon.domain import paging
from makersync.daemon.domain.accounts import require_account
from makersync.daemon.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    QuotaExceeded,
)
from makersync.daemon.domain.paging import parse_id, parse_optional_id
from makersync.daemon.domain.views import (
    AccountView,
    DisconnectResult,
    IntegrationView,
    Page,
    StoreView,
)
from makersync.daemon.store import accounts as qa
from makersync.daemon.store import integrations as q
from makersync.daemon.store import pulls as qp
from makersync.daemon.store import schedule
from makersync.plugins.clock import Clock

if TYPE_CHECKING:
    from makersync.daemon.rules import Plan
    from makersync.daemon.store.db import Database
    from makersync.daemon.store.secrets import SecretBox

MAX_TEXT_LEN = 500


def validate_channel(channel: str, channels: Collection[str]) -> str:
    """``channel`` if installed; NotFound listing the installed ones otherwise."""
    if channel not in channels:
        installed = ", ".join(sorted(channels)) or "none"
        raise NotFound("channel", f"{channel!r} is not an installed channel; installed: {installed}")
    return channel


def _plan_of(account: AccountView, plans: Mapping[str, Plan]) -> Plan:
    plan = plans.get(account.plan)
    if plan is None:
        raise FailedPrecondition(
            "plan", f"the account's plan {account.plan!r} is not in the plan table", "R1"
        )
    return plan


def _quota(account: AccountView, plans: Mapping[str, Plan]) -> None:
    plan = _plan_of(account, plans)
    if plan.max_stores is not None and account.stores_connected >= plan.max_stores:
        raise QuotaExceeded(
            "account_id",
            f"plan {plan.name} allows {plan.max_stores} connected store(s) and "
            f"{account.stores_connected} are connected; disconnect one or change plan",
            "R1",
        )


def _ensure_integration(
    db: Database, clock: Clock, account: AccountView, plan: Plan, channel: str
) -> IntegrationView:
    ident = int(account.id)
    view = q.fetch_integration(db, ident, channel)
    if view is None:
        q.insert_integration(db, clock.now(), ident, channel, plan.cadence != "none")
        view = q.fetch_integration(db, ident, channel)
    assert view is not None
    return view


def get_or_create_integration(
    db: Database, clock: Clock, plans: Mapping[str, Plan], account_id: str, channel: str,
    channels: Collection[str],
) -> IntegrationView:
    """The account's integration for ``channel``, created with defaults
    (automatic_updates on where the plan has a cadence, R5) if missing.
    Raises NotFound (account), InvalidArgument (channel not installed)."""
    validate_channel(channel, channels)
    with db.write_tx():
        account = require_account(db, clock, plans, account_id)
        return _ensure_integration(db, clock, account, _plan_of(account, plans), channel)


def configure(
    db: Database,
    clock: Clock,
    plans: Mapping[str, Plan],
    account_id: str,
    channel: str,
    channels: Collection[str],
    *,
    automatic_updates: bool | None = None,
    automatic_shipped_date: bool | None = None,
    default_location_id: str | None = None,
) -> IntegrationView:
    """Change an integration's settings (None = leave; default_location_id ''
    clears it). Switching automatic_shipped_date on records the instant (R6).

    Raises NotFound (account, location), InvalidArgument (channel, location of
    another account), FailedPrecondition (default location on a plan without
    it, R8)."""
    validate_channel(channel, channels)
    location = None
    if default_location_id is not None:
        location = parse_optional_id(default_location_id, "default_location_id", "location")
    with db.write_tx():
        account = require_account(db, clock, plans, account_id)
        plan = _plan_of(account, plans)
        if automatic_updates and plan.cadence == "none":
            raise FailedPrecondition(
                "automatic_updates",
                f"plan {plan.name} has no automatic pulls (manual pulls only)",
                "R5",
            )
        if location is not None:
            if not plan.default_location_allowed:
                raise FailedPrecondition(
                    "default_location_id",
                    f"plan {plan.name} does not allow a default location",
                    "R8",
                )
            owner = q.location_account(db, location)
            if owner is None:
                raise NotFound("default_location_id", f"no location {default_location_id!r}")
            if owner != int(account.id):
                raise InvalidArgument(
                    "default_location_id", "is not a location of this account", "R8"
                )
        current = _ensure_integration(db, clock, account, plan, channel)
        changes: dict[str, Any] = {}
        if automatic_updates is not None:
            changes["automatic_updates"] = automatic_updates
        if automatic_shipped_date is not None:
            changes["automatic_shipped_date"] = automatic_shipped_date
            if automatic_shipped_date and not current.automatic_shipped_date:
                changes["automatic_shipped_date_since"] = clock.now()
            elif not automatic_shipped_date:
                changes["automatic_shipped_date_since"] = None
        if default_location_id is not None:
            changes["default_location"] = location
        q.update_integration(db, int(current.id), changes)
        if automatic_updates is not None and automatic_updates != current.automatic_updates:
            schedule.mark_changed(db)  # R5: the stores get, or lose, their slots at once
        view = q.fetch_integration(db, int(account.id), channel)
    assert view is not None
    return view


def list_integrations(
    db: Database, account_id: str, page_size: int = 0, page_token: str = ""
) -> Page[IntegrationView]:
    """The account's integrations with their stores. Raises NotFound, InvalidArgument."""
    size = paging.page_size(page_size)
    ident = parse_id(account_id, "account_id", "account")
    with db.read_tx():
        if not qa.account_exists(db, ident):
            raise NotFound("account_id", f"no account {account_id!r}")
        return q.list_integrations(db, ident, size, page_token)


def check_store_quota(db: Database, clock: Clock, plans: Mapping[str, Plan], account_id: str) -> None:
    """Refuse one more store when the account's plan limit is reached (R1).

    Call before contacting the channel; ``record_store`` checks again.
    Raises NotFound (account), QuotaExceeded naming the plan and its limit."""
    with db.read_tx():
        account = require_account(db, clock, plans, account_id)
    _quota(account, plans)


def record_store(
    db: Database,
    clock: Clock,
    plans: Mapping[str, Plan],
    box: SecretBox,
    account_id: str,
    channel: str,
    channels: Collection[str],
    *,
    external_shop_id: str,
    shop_name: str,
    currency: str = "",
    warnings: Collection[str] = (),
    reachable_since: datetime | None = None,
    reach: timedelta | None = None,
    credentials: Mapping[str, str],
    display_name: str = "",
) -> StoreView:
    """Record a store the channel accepted, in one transaction: the
    integration if new, the store with its credentials encrypted, and its
    queued initial pull from the floor to now (R3). ``StoreView.initial_pull_id``
    names that pull.

    Raises NotFound, InvalidArgument, QuotaExceeded (R1), AlreadyExists (same
    account, channel and external shop id)."""
    validate_channel(channel, channels)
    shop_id = (external_shop_id or "").strip()
    if not shop_id:
        raise InvalidArgument("external_shop_id", "the channel named no shop id")
    name = (display_name or "").strip() or (shop_name or "").strip() or shop_id
    if len(name) > MAX_TEXT_LEN:
        raise InvalidArgument("display_name", f"must be at most {MAX_TEXT_LEN} characters")
    token = box.encrypt_json(dict(credentials))
    now = clock.now()
    with db.write_tx():
        ident = parse_id(account_id, "account_id", "account")
        if not q.lock_account(db, ident):
            raise NotFound("account_id", f"no account {account_id!r}")
        account = require_account(db, clock, plans, account_id)
        _quota(account, plans)
        plan = _plan_of(account, plans)
        if q.store_exists(db, ident, channel, shop_id):
            raise AlreadyExists(
                "credentials",
                f"{channel} shop {shop_id} is already connected to this account",
                "R1",
            )
        integration = _ensure_integration(db, clock, account, plan, channel)
        store_id = q.insert_store(
            db,
            {
                "integration": int(integration.id),
                "account": ident,
                "channel": channel,
                "external_shop_id": shop_id,
                "name": name,
                "currency": currency,
                "credentials_encrypted": token,
                "warnings": list(warnings),
                "reachable_since": reachable_since,
                "reach_s": _seconds(reach),
                "connected_at": now,
            },
        )
        jitter = rules.store_jitter_s(store_id)
        next_run = None
        if integration.automatic_updates:
            next_run = rules.next_automatic_run(
                plan, now, account.time_zone, account.daily_pull_hour, store_id
            )
        q.update_store(db, store_id, {"jitter_s": jitter, "next_automatic_pull_at": next_run})
        start = rules.day_start_utc(account.floor_date, account.time_zone)
        start = min(start, now - timedelta(seconds=1))
        qp.insert_pull(db, now, store_id, ident, "initial", start, now, {"priority": 10})
        view = q.fetch_store(db, store_id)
    assert view is not None
    return view


def get_store(db: Database, store_id: str) -> StoreView:
    """A store with its last pull. Raises NotFound."""
    ident = parse_id(store_id, "store_id", "store")
    with db.read_tx():
        view = q.fetch_store(db, ident)
    if view is None:
        raise NotFound("store_id", f"no store {store_id!r}")
    return view


def _account_filter(db: Database, account_id: str | None) -> int | None:
    """The account id to filter by (None: all accounts). Raises NotFound, InvalidArgument."""
    if not account_id:
        return None
    ident = parse_id(account_id, "account_id", "account")
    if not qa.account_exists(db, ident):
        raise NotFound("account_id", f"no account {account_id!r}")
    return ident


def list_stores(
    db: Database, account_id: str | None = None, page_size: int = 0, page_token: str = ""
) -> Page[StoreView]:
    """Stores by id, of one account or all. Raises NotFound, InvalidArgument."""
    size = paging.page_size(page_size)
    with db.read_tx():
        return q.list_stores(db, _account_filter(db, account_id), size, page_token)


def all_stores(db: Database, account_id: str | None = None) -> list[StoreView]:
    """Every store by id, of one account or all, in one read (no pages: the
    status shows them all). Raises NotFound, InvalidArgument."""
    with db.read_tx():
        return q.all_stores(db, _account_filter(db, account_id))


def disconnect(db: Database, store_id: str) -> DisconnectResult:
    """Remove the store and everything pulled from it in one transaction (R3):
    orders (lines, refunds, adjustments), fees, listings, pulls, tombstones,
    set-aside records, its lease; products the pulls created that nothing else
    links to. Maker products and products other stores link to stay.
    Raises NotFound."""
    ident = parse_id(store_id, "store_id", "store")
    with db.write_tx():
        if q.fetch_store(db, ident) is None:
            raise NotFound("store_id", f"no store {store_id!r}")
        return q.delete_store_and_pulled_data(db, ident)


def reconnect_store(
    db: Database,
    box: SecretBox,
    account_id: str,
    channel: str,
    *,
    external_shop_id: str,
    warnings: Collection[str] = (),
    reachable_since: datetime | None = None,
    reach: timedelta | None = None,
    credentials: Mapping[str, str],
) -> StoreView | None:
    """Connecting a shop that is already connected repairs it: the store keeps
    its id and its books, takes the new credentials, becomes active again, and
    no initial pull is queued (integrations.proto). Returns None when the shop
    is not connected to this account yet (then ``record_store`` applies)."""
    ident = parse_id(account_id, "account_id", "account")
    token = box.encrypt_json(dict(credentials))
    with db.write_tx():
        store_id = q.find_store_id(db, ident, channel, (external_shop_id or "").strip())
        if store_id is None:
            return None
        q.update_store(db, store_id, {"credentials_encrypted": token, "state": "active", "last_error": "",
                                      "warnings": list(warnings), "reachable_since": reachable_since,
                                      "reach_s": _seconds(reach)})
        schedule.mark_changed(db)  # active again: automatic pulls resume at once
        view = q.fetch_store(db, store_id)
    return view


def _seconds(reach: timedelta | None) -> int | None:
    """A channel's rolling reach as stored (whole seconds; None: no limit)."""
    return None if reach is None else int(reach.total_seconds())
