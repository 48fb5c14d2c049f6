"""The runner under the scheduler: fairness (one slow store never starves the
others), one pull per store at a time with manual pulls first (R4, S2),
fencing of a daemon that lost its lease (S1), waiting shown on the pull (R2),
and stopping at a page boundary (O1). A real engine and database; the channel
is an in-memory test channel (sched_channel)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sched_channel
from sched_channel import CONTROLS
from sched_fixtures import make_app

from makersync.daemon.app import DaemonApp
from makersync.daemon.domain import accounts, integrations
from makersync.daemon.domain import pulls as dom_pulls
from makersync.daemon.domain.views import StoreView
from makersync.daemon.engine.engine import EngineSettings, PullEngine
from makersync.daemon.engine.runner import PullRunner
from makersync.daemon.scheduler import Scheduler
from makersync.daemon.store import leases
from makersync.daemon.store.models import LeaseRow, OrderRow, PullRow
from makersync.plugins.clock import FakeClock
from makersync.plugins.manager import ChannelRegistry

CHANNEL = "schedtest"


@pytest.fixture
def rapp(tmp_path: Path, clock: FakeClock, database_url: str | None) -> Iterator[DaemonApp]:
    CONTROLS.__init__()  # type: ignore[misc]
    registry = ChannelRegistry().load(entry_points=False, modules=["sched_channel"])
    daemon = make_app(tmp_path, clock, database_url, registry=registry,
                      config_text="[scheduler]\nworkers = 2\npoll_s = 0.05\nlease_s = 30\n")
    yield daemon
    for gate in [g for _, g in CONTROLS.holds.values()]:
        gate.set()
    daemon.shutdown(5.0)
    daemon.db.close()


def connect(app: DaemonApp, shop: str, plan: str = "growth") -> StoreView:
    account = accounts.create_account(app.db, app.clock, app.plans, f"Maker {shop}", plan, "2026-05-01", "UTC")
    return integrations.record_store(app.db, app.clock, app.plans, app.box, account.id, CHANNEL, (CHANNEL,),
                                     external_shop_id=shop, shop_name=shop, credentials={"shop": shop})


def wait_for(predicate: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {predicate}")


def pull_states(store: StoreView) -> list[str]:
    return [p.state for p in PullRow.select().where(PullRow.store == int(store.id)).order_by(PullRow.id)]


def test_one_slow_store_does_not_starve_the_others(rapp):
    """A long backfill holds one worker; every other store's pull still runs."""
    slow = connect(rapp, "slow")
    gate = CONTROLS.hold("slow", before_page=1)
    others = [connect(rapp, f"s{i}") for i in range(6)]
    rapp.runner.start()

    wait_for(lambda: all(pull_states(s) == ["succeeded"] for s in others))
    assert pull_states(slow) == ["running"]
    gate.set()
    wait_for(lambda: pull_states(slow) == ["succeeded"])
    assert CONTROLS.served["slow"] == list(range(sched_channel.PAGES))


def test_manual_pull_waits_for_the_running_automatic_pull_then_runs(rapp, clock):
    """S2/R4: a manual pull asked for while an automatic one holds the store
    waits its turn; exactly one runs at a time."""
    store = connect(rapp, "s1")
    rapp.runner.start()
    wait_for(lambda: pull_states(store) == ["succeeded"])
    gate = CONTROLS.hold("s1", before_page=2)
    clock.advance(3600)
    assert Scheduler(rapp).tick(clock.now()) == 1
    CONTROLS.reached["s1"].wait(10)
    manual = rapp.request_pull(store.id, "2026-05-20", "2026-05-21", False)

    time.sleep(0.3)  # several polls: the manual pull must still wait
    assert pull_states(store) == ["succeeded", "running", "queued"]
    gate.set()
    wait_for(lambda: pull_states(store) == ["succeeded"] * 3)
    automatic, second = (PullRow.get_by_id(int(i)) for i in
                         (PullRow.select().where(PullRow.kind == "automatic").get().id, manual.id))
    assert automatic.finished_at <= second.started_at


def test_manual_pulls_are_claimed_before_automatic_ones(rapp, clock):
    """Priority: a manual pull asked for later still starts before waiting automatic pulls."""
    first, second = connect(rapp, "s1"), connect(rapp, "s2")
    PullRow.update(state="succeeded").execute()  # the initial pulls are done
    clock.advance(3600)
    assert Scheduler(rapp).tick(clock.now()) == 2
    clock.advance(1)
    manual = rapp.request_pull(second.id, "2026-05-20", "2026-05-20", False)
    claim = leases.claim_next(rapp.db, "d1", clock.now(), 30)
    assert claim is not None and str(claim.pull_id) == manual.id
    assert str(claim.store_id) == second.id and first.id != second.id


def test_daemon_that_lost_its_lease_writes_nothing(rapp, clock):
    """S1: a daemon paused past its lease is taken over; when it wakes, its
    next write is refused (fencing token) and the new owner's books stand."""
    store = connect(rapp, "s1")
    gate = CONTROLS.hold("s1", before_page=2)
    stale_engine = rapp.engine
    claim = leases.claim_next(rapp.db, stale_engine.settings.owner, clock.now(), 30)
    assert claim is not None
    outcome: list[str] = []
    paused = threading.Thread(target=lambda: outcome.append(stale_engine.run(claim, threading.Event())))
    paused.start()
    CONTROLS.reached["s1"].wait(10)  # pages 0 and 1 committed; the daemon "pauses"

    clock.advance(31)  # its lease expires
    assert leases.requeue_orphans(rapp.db, clock.now()) == 1
    other = PullEngine(rapp.db, rapp.registry, rapp.box, clock=clock, plans=lambda: rapp.plans,
                       channel_settings=lambda _n: {}, settings=EngineSettings(owner="other-daemon", lease_s=30),
                       limiters=rapp.limiters)
    takeover = leases.claim_next(rapp.db, "other-daemon", clock.now(), 30)
    assert takeover is not None and takeover.pull_id == claim.pull_id and takeover.token > claim.token
    del CONTROLS.holds["s1"]  # the new owner is not held
    assert other.run(takeover, threading.Event()) == "succeeded"
    taken_over_at = clock.now()

    gate.set()  # the paused daemon wakes up and tries to write page 2
    paused.join(10)
    assert outcome == ["lease_lost"]
    assert CONTROLS.served["s1"].count(2) == 2  # fetched by both; written by one
    orders = {o.external_id: o for o in OrderRow.select().where(OrderRow.store == int(store.id))}
    assert len(orders) == sched_channel.PAGES
    assert orders["s1-o2"].updated_at >= taken_over_at  # the new owner's write stands
    assert PullRow.get_by_id(claim.pull_id).state == "succeeded"


def test_pull_waiting_for_allowance_says_why(rapp, clock, monkeypatch):
    """R2: a pull waiting for the channel's allowance shows why on its row, and not after."""
    seen: list[str] = []
    base_sleep = clock.sleep

    def slow_sleep(seconds: float) -> None:  # time passes on the fake clock; let the test look
        row = PullRow.select(PullRow.waiting_reason).where(PullRow.state == "running").first()
        if row is not None and row.waiting_reason:
            seen.append(row.waiting_reason)
        base_sleep(seconds)

    monkeypatch.setattr(clock, "sleep", slow_sleep)
    store = connect(rapp, "s1")
    CONTROLS.wait_s["s1"] = 20.0
    rapp.runner.start()
    wait_for(lambda: pull_states(store) == ["succeeded"])
    assert seen and "waiting for the channel's allowance" in seen[0]
    assert PullRow.get(PullRow.store == int(store.id)).waiting_reason == ""


def test_stop_requeues_at_a_page_boundary_and_releases_the_lease(rapp):
    """O1: stopping with pulls running: each stops at a page boundary, goes back
    to the queue with its checkpoint, releases its lease; a restart resumes it."""
    store = connect(rapp, "s1")
    CONTROLS.pages["s1"] = 40
    CONTROLS.delay_s["s1"] = 0.03
    rapp.runner.start()
    wait_for(lambda: len(CONTROLS.served.get("s1", [])) >= 5)
    assert rapp.runner.stop(5.0) is True

    row = PullRow.get(PullRow.store == int(store.id))
    assert row.state == "queued" and row.checkpoint["stream"] == "orders"
    committed = row.checkpoint["cursor"]["page"]
    assert committed >= 4
    lease = LeaseRow.get(LeaseRow.store == int(store.id))
    assert lease.owner == "" and lease.expires_at < rapp.clock.now() + timedelta(seconds=1)

    resumed = PullRunner(rapp.db, rapp.engine, workers=1, poll_s=0.05).start()
    try:
        wait_for(lambda: pull_states(store) == ["succeeded"])
    finally:
        resumed.stop(5.0)
    served = CONTROLS.served["s1"]
    assert sorted(set(served)) == list(range(40))
    assert len(served) - 40 <= 1  # at most the page in flight at the stop is fetched again
    assert OrderRow.select().where(OrderRow.store == int(store.id)).count() == 40


def test_stop_ends_a_long_wait_for_allowance(rapp, clock):
    """O1: a pull waiting for its quota does not hold the shutdown past the grace period."""
    store = connect(rapp, "s1")
    real_sleep = clock.sleep

    def real_time_sleep(seconds: float) -> None:  # the wait takes real time, as in production
        time.sleep(min(seconds, 0.05))
        real_sleep(seconds)

    clock.sleep = real_time_sleep  # type: ignore[method-assign]
    CONTROLS.wait_s["s1"] = 3600.0
    rapp.runner.start()
    wait_for(lambda: PullRow.get(PullRow.store == int(store.id)).waiting_reason)
    assert rapp.runner.stop(5.0) is True  # every pull ended within the grace period
    row = PullRow.get(PullRow.store == int(store.id))
    assert (row.state, row.waiting_reason) == ("queued", "")


def test_cancelled_queued_pull_never_takes_the_lease(rapp, clock):
    """A pull cancelled while queued leaves the store's lease free for the next pull."""
    store = connect(rapp, "s1")
    initial = PullRow.get(PullRow.store == int(store.id))
    dom_pulls.cancel_pull(rapp.db, clock, str(initial.id))
    assert leases.claim_next(rapp.db, "d1", clock.now(), 30) is None
    manual = rapp.request_pull(store.id, "2026-05-20", "2026-05-20", False)
    claim = leases.claim_next(rapp.db, "d1", clock.now(), 30)
    assert claim is not None and str(claim.pull_id) == manual.id
