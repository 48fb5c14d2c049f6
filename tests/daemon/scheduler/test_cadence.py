"""The scheduler's cadence on a fake clock (R1, R5): daily at the account's
local hour with a few minutes of jitter, hourly, none; settings and plan
changes at once; one catch-up pull after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sched_fixtures import run_clock

from makersync.daemon.domain import accounts, integrations
from makersync.daemon.rules import DAILY_JITTER_MAX_S
from makersync.daemon.store.models import PullRow, StoreRow

STEP_S = 120.0
BERLIN = ZoneInfo("Europe/Berlin")


def _local(when: datetime, zone: ZoneInfo = BERLIN) -> datetime:
    return when.astimezone(zone)


SQLITE_ONLY = pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
"""For the long simulated runs: the cadence is the same on both databases, and
the queries are covered on PostgreSQL by the shorter tests."""


@SQLITE_ONLY
def test_each_plan_pulls_at_its_cadence_over_two_days(app, scheduler, shops, clock):
    """R1: trial/studio/indie daily at 05:00 local plus jitter, business/growth
    hourly, pro never; one pull per slot."""
    stores = {plan: shops.store(shops.account(plan)) for plan in
              ("trial", "studio", "indie", "business", "growth", "pro")}
    shops.run_queued()  # the initial pulls

    run_clock(clock, scheduler, shops, 2 * 86400, STEP_S)

    for plan in ("trial", "studio", "indie"):
        pulls = shops.automatic(stores[plan])
        assert len(pulls) == 2, plan
        for pull in pulls:
            local = _local(pull.created_at)
            offset_s = (local - local.replace(hour=5, minute=0, second=0, microsecond=0)).total_seconds()
            assert 0 <= offset_s < DAILY_JITTER_MAX_S + STEP_S, (plan, local)
        assert [_local(p.created_at).date().isoformat() for p in pulls] == ["2026-06-02", "2026-06-03"]
    for plan in ("business", "growth"):
        pulls = shops.automatic(stores[plan])
        assert len(pulls) == 48, plan
        minutes = {(p.created_at - p.created_at.replace(minute=0, second=0, microsecond=0)).total_seconds()
                   // STEP_S for p in pulls}
        assert len(minutes) == 1, (plan, minutes)  # the same moment of every hour: the store's jitter
    assert shops.automatic(stores["pro"]) == []
    assert shops.slot(stores["pro"]) is None


def test_daily_pull_runs_at_the_accounts_own_hour_and_zone(app, scheduler, shops, clock):
    """R1: the set local hour of the account, in its time zone."""
    store = shops.store(shops.account("studio", time_zone="America/New_York", hour=22))
    shops.run_queued()

    run_clock(clock, scheduler, shops, 86400, STEP_S)

    (pull,) = shops.automatic(store)
    local = _local(pull.created_at, ZoneInfo("America/New_York"))
    assert (local.date().isoformat(), local.hour) == ("2026-06-01", 22)
    assert _local(shops.slot(store), ZoneInfo("America/New_York")).hour == 22


@SQLITE_ONLY
def test_jitter_spreads_many_stores_over_minutes(app, scheduler, shops, clock):
    """R1: thousands of accounts do not all start in the same second."""
    daily = [shops.store(shops.account("indie")) for _ in range(200)]
    hourly = [shops.store(shops.account("growth")) for _ in range(200)]
    daily_slots = [_local(shops.slot(s)) for s in daily]
    hourly_slots = [shops.slot(s) for s in hourly]

    assert all(s.hour == 5 and s.minute < 5 for s in daily_slots)
    per_minute = [sum(1 for s in daily_slots if s.minute == m) for m in range(5)]
    assert len(set(daily_slots)) >= 100 and min(per_minute) >= 20, per_minute
    assert (max(daily_slots) - min(daily_slots)).total_seconds() >= 240
    offsets = sorted((s - s.replace(minute=0, second=0, microsecond=0)).total_seconds() for s in hourly_slots)
    assert offsets[-1] - offsets[0] >= 3000
    assert max(b - a for a, b in zip(offsets, offsets[1:], strict=False)) < 600  # no big holes

    clock.set(max(shops.slot(s) for s in daily))
    shops.run_queued()
    scheduler.tick(clock.now())
    per_store = PullRow.select(PullRow.store).where(PullRow.kind == "automatic").tuples()
    counted = [sid for (sid,) in per_store]
    assert sorted(counted) == sorted({*counted}) and {str(s) for s in counted} >= {s.id for s in daily}


def test_automatic_updates_off_means_no_automatic_pulls(app, scheduler, shops, clock):
    """R5: the integration's setting switches them off for all its stores, and on again."""
    account = shops.account("business")
    stores = [shops.store(account), shops.store(account)]
    shops.run_queued()

    integrations.configure(app.db, clock, app.plans, account.id, "etsy", ("etsy",), automatic_updates=False)
    scheduler.tick(clock.now())
    assert [shops.slot(s) for s in stores] == [None, None]
    run_clock(clock, scheduler, shops, 6 * 3600, STEP_S)
    assert shops.automatic() == []

    integrations.configure(app.db, clock, app.plans, account.id, "etsy", ("etsy",), automatic_updates=True)
    scheduler.tick(clock.now())
    for store in stores:
        slot = shops.slot(store)
        assert slot is not None and clock.now() < slot <= clock.now() + timedelta(hours=1)


def test_catch_up_after_a_day_down_is_one_pull_per_store(app, scheduler, shops, clock):
    """R5: a daemon that was down catches up with one pull per store, not one per missed slot."""
    hourly = shops.store(shops.account("business"))
    daily = shops.store(shops.account("studio"))
    shops.run_queued()
    scheduler.tick(clock.now())

    clock.advance(26 * 3600)  # down for a day and more: 26 hourly slots and one daily slot missed
    assert scheduler.tick(clock.now()) == 2
    assert scheduler.tick(clock.now()) == 0
    assert len(shops.automatic(hourly)) == 1 and len(shops.automatic(daily)) == 1
    assert clock.now() < shops.slot(hourly) <= clock.now() + timedelta(hours=1)
    assert clock.now() < shops.slot(daily) <= clock.now() + timedelta(days=1)


def test_catch_up_window_reads_since_the_last_high_water_mark(app, scheduler, shops, clock):
    """R5: the catch-up pull reads what changed since the last successful pull (minus the overlap)."""
    store = shops.store(shops.account("business"))
    shops.run_queued()
    high_water = StoreRow.get_by_id(int(store.id)).high_water_mark
    clock.advance(30 * 3600)
    scheduler.tick(clock.now())
    (pull,) = shops.automatic(store)
    overlap = timedelta(minutes=app.config.scheduler.overlap_minutes)
    assert pull.modified_since == high_water - overlap
    assert pull.priority < 10  # below initial and manual pulls


def test_plan_change_applies_at_once(app, scheduler, shops, clock):
    """R1/R5: a faster plan moves the next pull forward now; a manual-only plan removes it."""
    account = shops.account("studio")
    store = shops.store(account)
    shops.run_queued()
    assert shops.slot(store) > clock.now() + timedelta(hours=10)  # tomorrow 05:00 Berlin

    accounts.update_account(app.db, clock, app.plans, account.id, plan="business")
    scheduler.tick(clock.now())
    assert clock.now() < shops.slot(store) <= clock.now() + timedelta(hours=1)

    accounts.update_account(app.db, clock, app.plans, account.id, plan="pro")
    scheduler.tick(clock.now())
    assert shops.slot(store) is None
    run_clock(clock, scheduler, shops, 3 * 3600, STEP_S)
    assert shops.automatic(store) == []

    accounts.update_account(app.db, clock, app.plans, account.id, plan="indie")
    scheduler.tick(clock.now())
    assert _local(shops.slot(store)).hour == 5

    accounts.update_account(app.db, clock, app.plans, account.id, plan="business")
    accounts.update_account(app.db, clock, app.plans, account.id, plan="studio")  # hourly back to daily
    clock.advance(1)
    scheduler.tick(clock.now())
    assert _local(shops.slot(store)).hour == 5 and shops.slot(store) > clock.now() + timedelta(hours=1)


def test_daily_hour_change_applies_at_once(app, scheduler, shops, clock):
    """R1: a new local hour moves the next pull at the scheduler's next tick."""
    account = shops.account("studio")
    store = shops.store(account)
    scheduler.tick(clock.now())
    accounts.update_account(app.db, clock, app.plans, account.id, daily_pull_hour=18)
    clock.advance(1)
    scheduler.tick(clock.now())
    slot = _local(shops.slot(store))
    assert (slot.date().isoformat(), slot.hour) == ("2026-06-01", 18)


def test_plan_table_reload_applies_at_once(app, scheduler, shops, clock, tmp_path):
    """R1: the plan table is configuration; an edited, reloaded table takes effect at the next tick."""
    from makersync.daemon.config import load_config

    store = shops.store(shops.account("studio"))
    shops.run_queued()
    app.scheduler = scheduler
    scheduler.tick(clock.now())
    path = tmp_path / "reloaded.toml"
    path.write_text('[plans.studio]\nautomatic = "hourly"\n')
    app._apply_config(load_config(path, env={}, flags={"data_dir": str(app.config.data_dir)}))
    scheduler.tick(clock.now())
    assert clock.now() < shops.slot(store) <= clock.now() + timedelta(hours=1)

    path.write_text('[plans.studio]\nautomatic = "none"\n')
    app._apply_config(load_config(path, env={}, flags={"data_dir": str(app.config.data_dir)}))
    scheduler.tick(clock.now())
    assert shops.slot(store) is None


def test_store_needing_reconnect_is_skipped(app, scheduler, shops, clock):
    """A store whose credentials were refused gets no automatic pulls until reconnected."""
    store = shops.store(shops.account("business"))
    shops.refuse_credentials(store)
    run_clock(clock, scheduler, shops, 3 * 3600, STEP_S)
    assert shops.automatic(store) == [] and shops.slot(store) is None

    shops.reconnect(store)
    scheduler.tick(clock.now())
    assert clock.now() < shops.slot(store) <= clock.now() + timedelta(hours=1)


def test_running_automatic_pull_keeps_the_slot_until_it_ends(app, scheduler, shops, clock):
    """One pull per store at a time: the next slot waits for the running pull, then runs once."""
    store = shops.store(shops.account("business"))
    shops.run_queued()
    clock.set(shops.slot(store))
    assert scheduler.tick(clock.now()) == 1
    PullRow.update(state="running").where(PullRow.kind == "automatic").execute()

    clock.advance(3 * 3600)  # three more slots pass while it runs
    assert scheduler.tick(clock.now()) == 0
    shops_running = PullRow.select().where(PullRow.state == "running").count()
    assert shops_running == 1
    PullRow.update(state="succeeded", finished_at=clock.now()).where(PullRow.state == "running").execute()
    assert scheduler.tick(clock.now()) == 1
    assert scheduler.tick(clock.now()) == 0
    assert len(shops.automatic(store)) == 2


def test_slot_folds_into_an_automatic_pull_still_queued(app, scheduler, shops, clock):
    """A slot that comes while the store's automatic pull still waits in the queue adds no pull."""
    store = shops.store(shops.account("business"))
    shops.run_queued()
    clock.set(shops.slot(store))
    assert scheduler.tick(clock.now()) == 1
    clock.advance(3600)
    assert scheduler.tick(clock.now()) == 0
    assert len(shops.automatic(store)) == 1
    assert shops.slot(store) > clock.now()


def test_status_shows_each_stores_next_automatic_pull(app, scheduler, shops, clock):
    """GetStatus/GetStore: the next automatic pull, kept current as slots pass."""
    store = shops.store(shops.account("growth"))
    shops.run_queued()
    first = app.status(None).stores[0].next_automatic_pull_at
    assert first == shops.slot(store) and first > clock.now()
    clock.set(first)
    scheduler.tick(clock.now())
    second = app.status(None).stores[0].next_automatic_pull_at
    assert second == first + timedelta(hours=1)
    assert integrations.get_store(app.db, store.id).next_automatic_pull_at == second


def test_tick_reads_the_injected_clock(app, scheduler, shops):
    """Time is injected: a started scheduler ticks on the app's clock (a fake one here)."""
    store = shops.store(shops.account("growth"))
    shops.run_queued()
    app.clock.set(shops.slot(store))
    scheduler.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not shops.automatic(store) and datetime.now(UTC) < deadline:
            scheduler._wake.wait(0.05)
    finally:
        scheduler.stop()
    assert len(shops.automatic(store)) == 1
