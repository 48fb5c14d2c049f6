"""The scheduler: automatic pulls by plan (R1, R5).

Each store's next automatic pull is its row's ``next_automatic_pull_at`` (set
at connect, shown by ``GetStatus`` and ``GetStore``). Every poll the
scheduler, on the injected clock:

1. keeps those slots current: a store that gets no automatic pulls (not
   active, ``automatic_updates`` off, a plan without a cadence) has none; a
   store that should have one gets the next slot of its plan's cadence, so a
   plan or setting change takes effect at once. A full pass over the schedule
   runs at start, when the config (the plan table) changes, and every
   :data:`RECONCILE_EVERY` to catch changes no cheap query sees (daily hour,
   time zone, hourly to daily);
2. queues one automatic pull for each due store and moves its slot to the
   first slot *after now*, so a daemon that was down catches up with one pull
   per store, not one per missed slot (R5). The move is conditional on the
   old slot, so when several daemons share one database exactly one of them
   queues each slot;
3. wakes the runner, which claims queued pulls under a lease (manual pulls
   first, by priority) on a bounded pool, one pull per store at a time.

A store whose automatic pull is still running keeps its slot until that pull
ends (then it is due at once: still one catch-up pull); a store whose
automatic pull is still queued has the slot folded into it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from makersync.daemon import rules
from makersync.daemon.domain import pulls as dom_pulls
from makersync.daemon.domain.errors import DomainError, NotFound
from makersync.daemon.engine.windows import PullWindow, floor_start, plan_window
from makersync.daemon.rules import Plan
from makersync.daemon.store import schedule as q
from makersync.daemon.store.schedule import ScheduleRow

log = structlog.get_logger("makersync.scheduler")

AUTOMATIC_PRIORITY = 0
"""Below initial (10) and manual (20) pulls: the runner claims those first."""
BATCH = 500
MAX_BATCHES_PER_TICK = 100
RECONCILE_EVERY = timedelta(minutes=1)
RECONCILE_PAGE = 1000


@dataclass
class SchedulerStats:
    """Figures since start: ticks run, pulls queued, CPU seconds spent in ticks."""

    ticks: int = 0
    queued: int = 0
    slots_fixed: int = 0
    cpu_s: float = 0.0


class Scheduler:
    """Queues automatic pulls when stores are due. ``start()`` runs
    :meth:`tick` in a thread every ``[scheduler] poll_s``; tests call
    :meth:`tick` directly on a fake clock."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.stats = SchedulerStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._tick_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._reconcile_needed = True
        self._last_reconcile: datetime | None = None

    # -- life ---------------------------------------------------------------

    def start(self) -> Scheduler:
        """Run the scheduler in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread (a tick in progress finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def config_changed(self) -> None:
        """The config was reloaded: the plan table may have changed. Recompute
        every slot at the next tick, which starts now."""
        self._reconcile_needed = True
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.tick(self.app.clock.now())
            except Exception:  # a boundary: the next poll tries again on a fresh connection
                log.exception("scheduler tick failed")
                try:
                    self.app.db.close()
                except Exception:
                    log.debug("closing the database connection failed")
            self._wake.wait(self.app.config.scheduler.poll_s)
        self.app.db.close()

    # -- one tick ------------------------------------------------------------

    def tick(self, now: datetime) -> int:
        """Keep the slots current, queue the due automatic pulls as of ``now``
        and wake the runner. Returns how many pulls were queued."""
        with self._tick_lock:
            started = time.thread_time()
            try:
                queued = self._tick(now)
            finally:
                self.stats.ticks += 1
                self.stats.cpu_s += time.thread_time() - started
        if queued:
            self.app.runner.wake()
        return queued

    def _tick(self, now: datetime) -> int:
        plans = dict(self.app.plans)
        hourly = [n for n, p in plans.items() if p.cadence == "hourly"]
        daily = [n for n, p in plans.items() if p.cadence == "daily"]
        scheduled = [*hourly, *daily]
        db = self.app.db
        stale = q.unscheduled(db, scheduled)
        if stale:
            with db.write_tx():
                self.stats.slots_fixed += q.clear_slots(db, stale)
        if self._reconcile_needed or self._last_reconcile is None or (
                now - self._last_reconcile >= RECONCILE_EVERY or now < self._last_reconcile):
            self._reconcile_needed = False
            self._last_reconcile = now
            self._reconcile(now, plans, scheduled)
        queued = 0
        for _ in range(MAX_BATCHES_PER_TICK):
            rows = q.attention(db, now, hourly, daily, BATCH)
            fixed = self._fix(now, plans, rows)
            taken = [self._take_guarded(row, plans[row.plan], now) for row in rows
                     if row.next_at is not None and row.next_at <= now and row.plan in plans]
            queued += taken.count("queued")
            if len(rows) < BATCH or not (fixed or len(taken) - taken.count("skipped")):
                break
        if queued:
            self.stats.queued += queued
            log.info("automatic pulls queued", pulls=queued)
        return queued

    # -- slots ----------------------------------------------------------------

    def _next_slot(self, row: ScheduleRow, plan: Plan | None, now: datetime) -> datetime | None:
        if plan is None or not row.automatic_updates or row.state != "active":
            return None
        return rules.next_automatic_run(plan, now, row.time_zone, row.daily_hour, row.store_id)

    def _fix(self, now: datetime, plans: Mapping[str, Plan], rows: list[ScheduleRow]) -> int:
        """Give each row the first slot after ``now`` where it has another (or none)."""
        changes = []
        for row in rows:
            if row.next_at is not None and row.next_at <= now:
                continue  # due: the catch-up pull comes first, then the new cadence
            try:
                want = self._next_slot(row, plans.get(row.plan), now)
            except Exception:  # one bad row (a zone the system lost) must not stop the rest
                log.exception("cannot compute the next automatic pull", store_id=str(row.store_id))
                continue
            if want != row.next_at:
                changes.append((row, want))
        fixed = 0
        if changes:
            db = self.app.db
            with db.write_tx():
                for row, want in changes:
                    fixed += q.move_slot(db, row.store_id, row.next_at, want)
        self.stats.slots_fixed += fixed
        return fixed

    def _reconcile(self, now: datetime, plans: Mapping[str, Plan], scheduled: list[str]) -> int:
        """A full pass: every scheduled store's slot checked against its plan."""
        fixed, after = 0, 0
        while True:
            rows = q.scheduled_page(self.app.db, scheduled, after, RECONCILE_PAGE)
            fixed += self._fix(now, plans, rows)
            if len(rows) < RECONCILE_PAGE:
                break
            after = rows[-1].store_id
        if fixed:
            log.info("automatic pull times updated", stores=fixed)
        return fixed

    # -- due stores ------------------------------------------------------------

    def _take_guarded(self, row: ScheduleRow, plan: Plan, now: datetime) -> str:
        """``_take``; a store the domain refuses is logged and skipped, so it
        cannot hold up the others. Database errors end the tick (the next one
        starts on a fresh connection)."""
        try:
            return self._take(row, plan, now)
        except (DomainError, ValueError, LookupError):
            log.exception("cannot queue the automatic pull", store_id=str(row.store_id))
            return "skipped"

    def _take(self, row: ScheduleRow, plan: Plan, now: datetime) -> str:
        """Take one due slot: 'queued' (a pull was queued), 'folded' (an
        automatic pull was already waiting; the slot was moved) or 'skipped'
        (another daemon took the slot, or the store's pull is still running)."""
        db = self.app.db
        slot = self._next_slot(row, plan, now)
        window = self._window(row, plan, now)
        with db.write_tx():
            pending = q.pending_automatic(db, row.store_id)
            if pending == "running":
                return "skipped"
            if not q.move_slot(db, row.store_id, row.next_at, slot):
                return "skipped"
            if pending == "queued":
                return "folded"
            try:
                view = dom_pulls.enqueue_pull(
                    db, self.app.clock, str(row.store_id), "automatic", window.placed_from,
                    window.placed_to, modified_since=window.modified_since, priority=AUTOMATIC_PRIORITY)
            except NotFound:  # disconnected meanwhile
                return "skipped"
        log.debug("automatic pull queued", store_id=str(row.store_id), pull_id=view.id,
                  slot=row.next_at.isoformat() if row.next_at else None,
                  next_slot=slot.isoformat() if slot else None)
        return "queued"

    def _window(self, row: ScheduleRow, plan: Plan, now: datetime) -> PullWindow:
        """The window the pull would read if it started now (the engine
        recomputes it when the pull actually starts)."""
        floor = floor_start(row.start_date, row.time_zone, plan.lookback_days, now)
        overlap = timedelta(minutes=self.app.config.scheduler.overlap_minutes)
        return plan_window(kind="automatic", now=now, floor=floor, stored_start=floor, stored_end=now,
                           high_water=row.high_water, reachable_since=row.reachable_since, overlap=overlap)
