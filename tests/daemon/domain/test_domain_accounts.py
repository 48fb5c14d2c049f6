"""Accounts: creation, floors (R2), start date changes (R3), plan changes (R1)."""

from __future__ import annotations

from datetime import date

import pytest

from makersync.daemon.domain import accounts, integrations
from makersync.daemon.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)


def test_create_account_reports_floor_from_start_date(db, clock, plans):
    """R2: a recent start date is the floor."""
    view = accounts.create_account(db, clock, plans, "Ada", "studio", "2026-01-01", "Europe/Berlin")
    assert (view.floor_date, view.floor_reason) == (date(2026, 1, 1), "start_date")
    assert view.daily_pull_hour == 5 and view.max_stores == 5 and view.stores_connected == 0


def test_create_account_floor_from_lookback_when_start_old(db, clock, plans):
    """R2: the trial plan's 30-day lookback cuts an old start date."""
    view = accounts.create_account(db, clock, plans, "Ada", "trial", "2020-01-01", "UTC")
    assert (view.floor_date, view.floor_reason) == (date(2026, 5, 2), "lookback")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " "}, "name"),
        ({"plan": "gold"}, "plan"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"time_zone": "Berlin"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),
        ({"time_zone": "Factory"}, "time_zone"),
        ({"daily_pull_hour": 24}, "daily_pull_hour"),
    ],
)
def test_create_account_refused_when_field_invalid(db, clock, plans, rows, kwargs, field):
    """R15: each bad field is named and nothing is written."""
    args = {"name": "Ada", "plan": "studio", "start_date": "2026-01-01", "time_zone": "UTC"}
    args.update(kwargs)
    before = rows()
    with pytest.raises(InvalidArgument) as err:
        accounts.create_account(db, clock, plans, **args)
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")
    assert rows() == before


def test_get_account_not_found_when_unknown(db, clock, plans):
    """Unknown and malformed ids are NotFound naming account_id; empty is invalid."""
    for bad in ("999", "abc", "-1"):
        with pytest.raises(NotFound) as err:
            accounts.get_account(db, clock, plans, bad)
        assert err.value.field == "account_id"
    with pytest.raises(InvalidArgument):
        accounts.get_account(db, clock, plans, "")


def test_start_date_change_refused_when_store_connected(db, books, clock, plans, rows):
    """R3: changing the start date with a store connected is refused: disconnect first."""
    account = books.account()
    books.store(account)
    before = rows()
    with pytest.raises(FailedPrecondition) as err:
        accounts.update_account(db, clock, plans, account.id, start_date="2025-06-01")
    assert err.value.field == "start_date" and "disconnect" in str(err.value)
    assert str(err.value).endswith("(R3)")
    assert rows() == before
    assert accounts.get_account(db, clock, plans, account.id).start_date == date(2026, 1, 1)


def test_start_date_change_allowed_when_no_store(db, books, clock, plans):
    """R3: with no store connected the start date may change, and the floor follows."""
    account = books.account()
    view = accounts.update_account(db, clock, plans, account.id, start_date="2026-03-01")
    assert view.start_date == date(2026, 3, 1) and view.floor_date == date(2026, 3, 1)


def test_start_date_same_value_allowed_when_store_connected(db, books, clock, plans):
    """R3: re-sending the current start date is not a change."""
    account = books.account()
    books.store(account)
    view = accounts.update_account(db, clock, plans, account.id, start_date="2026-01-01", name="B")
    assert view.name == "B"


def test_plan_change_refused_when_more_stores_than_new_limit(db, books, clock, plans, rows):
    """R1: a plan that allows fewer stores than are connected is refused."""
    account = books.account(plan="studio")
    for _ in range(3):
        books.store(account)
    before = rows()
    with pytest.raises(FailedPrecondition) as err:
        accounts.update_account(db, clock, plans, account.id, plan="trial")
    assert err.value.field == "plan" and "allows 2" in str(err.value)
    assert rows() == before


def test_plan_upgrade_switches_on_automatic_updates_from_manual_only(db, books, clock, plans):
    """R5: on pro automatic pulls are off; moving to a plan with a cadence switches them on."""
    account = books.account(plan="pro")
    books.store(account)
    integ = integrations.list_integrations(db, account.id).items[0]
    assert integ.automatic_updates is False
    accounts.update_account(db, clock, plans, account.id, plan="business")
    assert integrations.list_integrations(db, account.id).items[0].automatic_updates is True


def test_location_refused_when_name_taken(db, books, clock):
    """Locations are unique by name within an account."""
    account = books.account()
    accounts.create_location(db, clock, account.id, "Studio")
    with pytest.raises(AlreadyExists):
        accounts.create_location(db, clock, account.id, "Studio")
    assert [loc.name for loc in accounts.list_locations(db, account.id).items] == ["Studio"]


def test_list_accounts_pages_with_token(db, clock, plans):
    """Lists page by token and refuse a forged token."""
    for i in range(5):
        accounts.create_account(db, clock, plans, f"A{i}", "studio", "2026-01-01", "UTC")
    first = accounts.list_accounts(db, clock, plans, page_size=2)
    second = accounts.list_accounts(db, clock, plans, 2, first.next_page_token)
    third = accounts.list_accounts(db, clock, plans, 2, second.next_page_token)
    names = [a.name for p in (first, second, third) for a in p.items]
    assert names == [f"A{i}" for i in range(5)] and third.next_page_token == ""
    with pytest.raises(InvalidArgument) as err:
        accounts.list_accounts(db, clock, plans, 2, "not!a!token")
    assert err.value.field == "page_token"
    with pytest.raises(InvalidArgument) as err:
        accounts.list_accounts(db, clock, plans, -1)
    assert err.value.field == "page_size"


def test_plan_change_refused_when_integration_names_default_location(db, books, clock, plans, rows):
    """R8: moving to a plan without default locations while an integration names
    one is refused, naming the plan, the integration and the rule; nothing changes."""
    account = books.account(plan="business")
    loc = accounts.create_location(db, clock, account.id, "Studio")
    integrations.configure(db, clock, plans, account.id, "etsy", ("etsy",), default_location_id=loc.id)
    before = rows()
    with pytest.raises(FailedPrecondition) as err:
        accounts.update_account(db, clock, plans, account.id, plan="studio")
    message = str(err.value)
    assert err.value.field == "plan" and message.endswith("(R8)")
    assert f"etsy (location {loc.id})" in message and "clear" in message
    assert rows() == before
    assert accounts.get_account(db, clock, plans, account.id).plan == "business"
    assert integrations.list_integrations(db, account.id).items[0].default_location_id == loc.id


def test_plan_change_allowed_when_default_location_cleared(db, books, clock, plans):
    """R8: once the default location is cleared the downgrade goes through."""
    account = books.account(plan="business")
    loc = accounts.create_location(db, clock, account.id, "Studio")
    integrations.configure(db, clock, plans, account.id, "etsy", ("etsy",), default_location_id=loc.id)
    integrations.configure(db, clock, plans, account.id, "etsy", ("etsy",), default_location_id="")
    assert accounts.update_account(db, clock, plans, account.id, plan="studio").plan == "studio"


def test_plan_change_allowed_with_default_location_when_new_plan_allows(db, books, clock, plans):
    """R8: business to growth keeps the default location (growth allows one)."""
    account = books.account(plan="business")
    loc = accounts.create_location(db, clock, account.id, "Studio")
    integrations.configure(db, clock, plans, account.id, "etsy", ("etsy",), default_location_id=loc.id)
    assert accounts.update_account(db, clock, plans, account.id, plan="growth").plan == "growth"
    assert integrations.list_integrations(db, account.id).items[0].default_location_id == loc.id


def test_create_account_refused_when_start_date_after_today(db, clock, plans, rows):
    """R3: a start date after today (in the account's time zone) is refused,
    naming start_date and the rule; nothing is written."""
    before = rows()
    with pytest.raises(InvalidArgument) as err:
        accounts.create_account(db, clock, plans, "Ada", "studio", "2027-06-01", "UTC")
    assert err.value.field == "start_date" and str(err.value).endswith("(R3)")
    assert "2026-06-01" in str(err.value)
    assert rows() == before


def test_start_date_today_judged_in_account_time_zone(db, clock, plans):
    """R3: at 12:00 UTC on 2026-06-01 it is already 2026-06-02 in Kiritimati (UTC+14)."""
    view = accounts.create_account(db, clock, plans, "Ada", "studio", "2026-06-02", "Pacific/Kiritimati")
    assert view.start_date == date(2026, 6, 2)
    with pytest.raises(InvalidArgument):
        accounts.create_account(db, clock, plans, "Bo", "studio", "2026-06-02", "UTC")


def test_update_account_refused_when_start_date_after_today(db, books, clock, plans, rows):
    """R3: UpdateAccount refuses a future start date, in the new time zone when one is given."""
    account = books.account()
    before = rows()
    with pytest.raises(InvalidArgument) as err:
        accounts.update_account(db, clock, plans, account.id, start_date="2026-06-02")
    assert err.value.field == "start_date" and str(err.value).endswith("(R3)")
    with pytest.raises(InvalidArgument):
        accounts.update_account(db, clock, plans, account.id, start_date="2026-06-03",
                                time_zone="Pacific/Kiritimati")
    assert rows() == before
    view = accounts.update_account(db, clock, plans, account.id, start_date="2026-06-02",
                                   time_zone="Pacific/Kiritimati")
    assert view.start_date == date(2026, 6, 2)


@pytest.mark.parametrize("zone", ["localtime", "Factory"])
def test_update_account_refused_when_time_zone_not_iana(db, books, clock, plans, rows, zone):
    """R15: UpdateAccount validates the zone the same way; nothing is written."""
    account = books.account()
    before = rows()
    with pytest.raises(InvalidArgument) as err:
        accounts.update_account(db, clock, plans, account.id, time_zone=zone)
    assert err.value.field == "time_zone"
    assert rows() == before
