"""Idle polls (QUALITY P7): a poll that finds the change marker as it was and
no slot come reads nothing else, yet every change still gets its slot on
time (R1, R5), whichever daemon wrote it.

Most tests here switch the safety net off (``no_safety_net``), so a slot
they see on time was found by the marker or by the due check, never by the
full tick every :data:`FULL_TICK_EVERY`."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from makersync.daemon import scheduler as scheduler_module
from makersync.daemon.domain import accounts, integrations
from makersync.daemon.scheduler import FULL_TICK_EVERY
from makersync.daemon.store import pullstate
from makersync.daemon.store.models import IntegrationRow, PullRow, StoreRow

POLL_S = 1.0


@pytest.fixture
def no_safety_net(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "FULL_TICK_EVERY", timedelta(days=365))


def _poll(scheduler, clock, polls: int = 5) -> int:
    """Poll every second like the daemon; returns the pulls queued."""
    queued = 0
    for _ in range(polls):
        clock.advance(POLL_S)
        queued += scheduler.tick(clock.now())
    return queued


def _settled(scheduler, shops, clock) -> int:
    """Run the initial pulls, tick once (a full tick) and poll a while, so
    the scheduler is skipping; returns its full-tick count."""
    shops.run_queued()
    scheduler.tick(clock.now())
    full = scheduler.stats.full_ticks
    assert _poll(scheduler, clock) == 0
    assert scheduler.stats.full_ticks == full, "idle polls should skip the schedule queries"
    return full


def test_idle_polls_skip_the_schedule_until_the_safety_net(app, scheduler, shops, clock):
    """P7: with nothing due and nothing changed, polls read no schedule; the
    whole schedule is read again after FULL_TICK_EVERY at the latest."""
    shops.store(shops.account("studio"))  # next slot: tomorrow 05:00 Berlin
    full = _settled(scheduler, shops, clock)
    net_s = int(FULL_TICK_EVERY.total_seconds())

    _poll(scheduler, clock, net_s - 10)
    assert scheduler.stats.full_ticks == full
    _poll(scheduler, clock, 10)
    assert scheduler.stats.full_ticks == full + 1


def test_plan_change_while_idle_applies_at_the_next_poll(app, scheduler, shops, clock, no_safety_net):
    """R1: a faster plan moves the next pull forward at once, and it runs at its new slot."""
    account = shops.account("studio")
    store = shops.store(account)
    _settled(scheduler, shops, clock)

    accounts.update_account(app.db, clock, app.plans, account.id, plan="business")
    _poll(scheduler, clock, 1)
    slot = shops.slot(store)
    assert clock.now() < slot <= clock.now() + timedelta(hours=1)

    clock.set(slot - timedelta(seconds=POLL_S))
    assert scheduler.tick(clock.now()) == 0
    assert _poll(scheduler, clock, 1) == 1
    assert len(shops.automatic(store)) == 1


def test_automatic_updates_switched_on_while_idle_gets_a_slot(app, scheduler, shops, clock, no_safety_net):
    """R5: switching automatic pulls on gives the stores a slot at the next poll, and their pulls."""
    account = shops.account("business")
    store = shops.store(account)
    integrations.configure(app.db, clock, app.plans, account.id, "etsy", ("etsy",), automatic_updates=False)
    _settled(scheduler, shops, clock)
    assert shops.slot(store) is None

    integrations.configure(app.db, clock, app.plans, account.id, "etsy", ("etsy",), automatic_updates=True)
    _poll(scheduler, clock, 1)
    slot = shops.slot(store)
    assert slot is not None and clock.now() < slot <= clock.now() + timedelta(hours=1)

    clock.set(slot)
    assert scheduler.tick(clock.now()) == 1


def test_automatic_updates_switched_off_while_idle_drops_the_slot(app, scheduler, shops, clock, no_safety_net):
    """R5: switching automatic pulls off removes the next pull at the next poll."""
    account = shops.account("business")
    store = shops.store(account)
    _settled(scheduler, shops, clock)
    slot = shops.slot(store)

    integrations.configure(app.db, clock, app.plans, account.id, "etsy", ("etsy",), automatic_updates=False)
    _poll(scheduler, clock, 1)
    assert shops.slot(store) is None

    clock.set(slot + timedelta(minutes=5))
    assert _poll(scheduler, clock) == 0
    assert shops.automatic(store) == []


def test_store_connected_while_idle_is_pulled_at_its_first_slot(app, scheduler, shops, clock, no_safety_net):
    """R1: a store connected while the scheduler idles, with a slot earlier
    than every other, is pulled at that slot (connecting marks nothing: the
    slot itself is seen)."""
    shops.store(shops.account("studio"))  # tomorrow
    _settled(scheduler, shops, clock)

    hourly = shops.store(shops.account("business"))
    shops.run_queued()
    slot = shops.slot(hourly)
    assert slot < clock.now() + timedelta(hours=1)

    clock.set(slot - timedelta(seconds=POLL_S))
    assert scheduler.tick(clock.now()) == 0
    assert _poll(scheduler, clock, 1) == 1
    assert len(shops.automatic(hourly)) == 1


def test_reconnected_store_gets_a_slot_at_the_next_poll(app, scheduler, shops, clock, no_safety_net):
    """R5: refused credentials stop automatic pulls; reconnecting starts them
    again at once."""
    store = shops.store(shops.account("business"))
    scheduler.tick(clock.now())
    shops.refuse_credentials(store)
    _poll(scheduler, clock, 1)
    assert shops.slot(store) is None
    _poll(scheduler, clock)

    shops.reconnect(store)
    _poll(scheduler, clock, 1)
    slot = shops.slot(store)
    assert slot is not None and clock.now() < slot <= clock.now() + timedelta(hours=1)
    clock.set(slot)
    assert scheduler.tick(clock.now()) == 1


def test_automatic_pull_ending_after_its_next_slot_gets_one_catch_up_pull(
        app, scheduler, shops, clock, no_safety_net):
    """R5: the slot that came while the store's automatic pull ran is taken
    at the first poll after the pull ends: one catch-up pull, not one per slot."""
    store = shops.store(shops.account("business"))
    _settled(scheduler, shops, clock)
    clock.set(shops.slot(store))
    assert scheduler.tick(clock.now()) == 1
    (pull,) = shops.automatic(store)
    PullRow.update(state="running", started_at=clock.now()).where(PullRow.id == pull.id).execute()

    clock.set(shops.slot(store) + timedelta(hours=1, seconds=30))  # two more slots come while it runs
    assert _poll(scheduler, clock) == 0

    pullstate.finish(app.db, pull.id, state="succeeded", error="", now=clock.now(), high_water=clock.now())
    assert _poll(scheduler, clock, 1) == 1
    assert _poll(scheduler, clock) == 0
    assert len(shops.automatic(store)) == 2
    assert shops.slot(store) > clock.now()


def test_change_written_by_another_daemon_applies_at_the_next_poll(
        app, scheduler, shops, clock, no_safety_net):
    """R1 with several daemons on one database: a plan change made through
    another daemon (another connection, committed there) moves this
    daemon's schedule at its next poll."""
    account = shops.account("studio")
    store = shops.store(account)
    _settled(scheduler, shops, clock)
    errors: list[BaseException] = []

    def other_daemon() -> None:
        try:
            accounts.update_account(app.db, clock, app.plans, account.id, plan="growth")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            app.db.close()

    thread = threading.Thread(target=other_daemon)
    thread.start()
    thread.join(30)
    assert errors == []

    _poll(scheduler, clock, 1)
    slot = shops.slot(store)
    assert clock.now() < slot <= clock.now() + timedelta(hours=1)
    clock.set(slot)
    assert scheduler.tick(clock.now()) == 1


def test_slot_moved_by_hand_into_the_past_is_taken_at_the_next_poll(
        app, scheduler, shops, clock, no_safety_net):
    """A slot that has come is seen at the next poll, whoever wrote it (here a
    hand edit that marks nothing, as the several-daemons test does)."""
    store = shops.store(shops.account("studio"))
    _settled(scheduler, shops, clock)

    StoreRow.update(next_automatic_pull_at=clock.now()).where(StoreRow.id == int(store.id)).execute()
    assert _poll(scheduler, clock, 1) == 1


def test_unmarked_change_waits_at_most_the_safety_net(app, scheduler, shops, clock):
    """A change written without marking it (a hand edit) is delayed, never
    lost: the full tick every FULL_TICK_EVERY gives the store its slot."""
    account = shops.account("business")
    store = shops.store(account)
    integrations.configure(app.db, clock, app.plans, account.id, "etsy", ("etsy",), automatic_updates=False)
    full = _settled(scheduler, shops, clock)

    IntegrationRow.update(automatic_updates=True).where(IntegrationRow.account == int(account.id)).execute()
    polls = 0
    while shops.slot(store) is None and polls <= FULL_TICK_EVERY.total_seconds():
        polls += 1
        _poll(scheduler, clock, 1)
    assert shops.slot(store) is not None
    assert scheduler.stats.full_ticks == full + 1
