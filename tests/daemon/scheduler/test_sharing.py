"""Several daemons on one database share the schedule: each slot is queued
exactly once however many schedulers race for it (QUALITY S1)."""

from __future__ import annotations

import threading

from makersync.daemon.scheduler import Scheduler
from makersync.daemon.store.models import PullRow


def test_racing_schedulers_queue_each_slot_exactly_once(app, shops, clock):
    """Three schedulers tick at the same instant over 60 due stores: 60 pulls, one per store."""
    stores = [shops.store(shops.account("growth")) for _ in range(60)]
    shops.run_queued()
    clock.advance(2 * 3600)  # every store is due (two slots missed: still one pull each)
    schedulers = [Scheduler(app) for _ in range(3)]
    barrier = threading.Barrier(len(schedulers))
    results: list[int] = []
    errors: list[BaseException] = []

    def race(scheduler: Scheduler) -> None:
        try:
            barrier.wait()
            results.append(scheduler.tick(clock.now()))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            app.db.close()

    threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert sum(results) == len(stores)
    per_store = [sid for (sid,) in PullRow.select(PullRow.store).where(PullRow.kind == "automatic").tuples()]
    assert sorted(per_store) == sorted({int(s.id) for s in stores})
    assert all(shops.slot(s) > clock.now() for s in stores)
    assert sum(s.tick(clock.now()) for s in schedulers) == 0


def test_scheduler_cost_per_pull_is_small(app, shops, clock):
    """P7 (a sanity check, not the benchmark): queuing a due pull costs a few
    milliseconds of CPU, and an idle tick less."""
    for _ in range(100):
        shops.store(shops.account("growth"))
    shops.run_queued()
    scheduler = Scheduler(app)
    scheduler.tick(clock.now())
    idle_before = scheduler.stats.cpu_s
    for _ in range(20):
        scheduler.tick(clock.now())
    idle_ms = (scheduler.stats.cpu_s - idle_before) / 20 * 1000
    clock.advance(3600)
    busy_before = scheduler.stats.cpu_s
    assert scheduler.tick(clock.now()) == 100
    per_pull_ms = (scheduler.stats.cpu_s - busy_before) / 100 * 1000
    print(f"scheduler: idle tick {idle_ms:.2f} ms CPU; {per_pull_ms:.2f} ms CPU per queued pull")
    assert per_pull_ms < 10 and idle_ms < 5
