"""The scheduler: automatic pulls by plan (R1, R5).

Each store's next automatic pull is its row's ``next_automatic_pull_at`` (set
at connect, shown by ``GetStatus`` and ``GetStore``). Every poll the
scheduler, on the injected clock:

1. glances at the schedule: one statement reads the change marker (an epoch
   that every write changing who gets automatic pulls, or when, moves; see
   ``store.schedule.mark_changed``) and the earliest slot. When the marker is
   as it was and no slot has come, the poll ends there (QUALITY P7: 86,400
   polls a day must cost next to nothing);
2. keeps the slots current when the marker moved (or at start, after a
   config reload, and at least every :data:`FULL_TICK_EVERY`): a store that
   gets no automatic pulls (not active, ``automatic_updates`` off, a plan
   without a cadence) has none; a store that should have one gets the next
   slot of its plan's cadence, so a plan or setting change takes effect at
   once. A full pass over the schedule runs at start, when the config (the
   plan table) changes, and every :data:`RECONCILE_EVERY`;
3. queues one automatic pull for each due store and moves its slot to the
   first slot *after now*, so a daemon that was down catches up with one pull
   per store, not one per missed slot (R5). The move is conditional on the
   old slot, so when several daemons share one database exactly one of them
   queues each slot;
4. wakes the runner, which claims queued pulls under a lease (manual pulls
   first, by priority) on a bounded pool, one pull per store at a time.

A store whose automatic pull is still running keeps its slot until that pull
ends (then it is due at once: still one catch-up pull); a store whose
automatic pull is still queued has the slot folded into it. A kept slot is
the earliest, so polls look at the due stores (a read of the due end of the
slot index) until the pull ends: no marker is needed for that.
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
FULL_TICK_EVERY = timedelta(minutes=1)
"""The safety net under the change marker: how late a change written without
``mark_changed`` (a hand edit, a write path that forgot it) can be seen. Such
a change never loses a slot, because a slot that has come is seen at the next
poll whoever wrote it; it can only delay a slot the change adds or moves
earlier (switched on, a faster plan, reconnected), by at most this: well
inside a daily slot's jitter, and the bound the every-minute pass gave before
the marker. A full tick costs about 10 ms at 10,000 stores, so the net costs
about 0.02 % of a core."""
RECONCILE_EVERY = timedelta(hours=1)
"""How often the full pass recomputes every slot from its plan (about 20 µs a
store: a fifth of a second at 10,000). Every change made through the daemon
clears the slots it affects, or the config reload asks for a pass, so this
only catches what nothing cleared (a daily hour edited by hand, new tz data);
an hour bounds how late that is, at about 0.1 ms of CPU per pull over a day."""
RECONCILE_PAGE = 1000


@dataclass
class SchedulerStats:
    """Figures since start: ticks run (``full_ticks`` of them read the whole
    schedule), pulls queued, slots set or cleared, CPU seconds spent in all
    ticks."""

    ticks: int = 0
    full_ticks: int = 0
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
        self._last_full_tick: datetime | None = None
        self._seen_epoch = 0

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
        glance = q.glance(self.app.db)
        full = self._needs_full_tick(now, glance.epoch)
        if not full and not glance.has_due(now):
            return 0
        plans = dict(self.app.plans)
        hourly = [n for n, p in plans.items() if p.cadence == "hourly"]
        daily = [n for n, p in plans.items() if p.cadence == "daily"]
        if full:
            self._tidy(now, plans, [*hourly, *daily])
        queued = self._queue_due(now, plans, hourly, daily, full)
        if full:
            # The epoch read before the tick's queries: a change committed
            # since shows as a new epoch at the next poll.
            self._seen_epoch, self._last_full_tick = glance.epoch, now
            self.stats.full_ticks += 1
        if queued:
            self.stats.queued += queued
            log.info("automatic pulls queued", pulls=queued)
        return queued

    def _needs_full_tick(self, now: datetime, epoch: int) -> bool:
        """Whether this poll must read the whole schedule: at start, after a
        config reload, when a write marked a change, when the clock went
        back, and at least every :data:`FULL_TICK_EVERY`."""
        last = self._last_full_tick
        return (self._reconcile_needed or last is None or epoch != self._seen_epoch or now < last
                or now - last >= FULL_TICK_EVERY)

    def _tidy(self, now: datetime, plans: Mapping[str, Plan], scheduled: list[str]) -> None:
        """Clear the slots of stores that no longer get automatic pulls, and
        run the full pass when it is time."""
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

    def _queue_due(self, now: datetime, plans: Mapping[str, Plan], hourly: list[str], daily: list[str],
                   full: bool) -> int:
        """Fix the slots that need it and queue the due pulls, a batch at a
        time. A full tick reads every store needing attention; otherwise only
        the due ones can (nothing marked a change). Returns pulls queued."""
        db = self.app.db
        queued = 0
        for _ in range(MAX_BATCHES_PER_TICK):
            if full:
                rows = q.attention(db, now, hourly, daily, BATCH)
            else:
                rows = q.due(db, now, [*hourly, *daily], BATCH)
            fixed = self._fix(now, plans, rows)
            taken = [self._take_guarded(row, plans[row.plan], now) for row in rows
                     if row.next_at is not None and row.next_at <= now and row.plan in plans]
            queued += taken.count("queued")
            if len(rows) < BATCH or not (fixed or len(taken) - taken.count("skipped")):
                break
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
                           high_water=row.high_water,
                           reachable_since=rules.reachable_since(now, row.reachable_since, row.reach), overlap=overlap)
