"""The worker pool: claims queued pulls (one per store at a time, R4) and runs
them on a bounded number of threads, renewing their leases by heartbeat.

Every poll it also puts back in the queue the pulls whose daemon died or was
paused past its lease (``leases.requeue_orphans``), so any daemon on the same
database takes them over within the lease time plus one poll (QUALITY S1).
Workers are daemon threads: a pull that cannot reach a page boundary within
the shutdown grace (a request that hangs) does not keep the process alive;
its lease simply expires and the pull resumes from its checkpoint elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from makersync.daemon.engine.engine import PullEngine
from makersync.daemon.store import leases
from makersync.daemon.store.db import Database
from makersync.daemon.store.leases import Claim

log = structlog.get_logger("makersync.runner")
T = TypeVar("T")


class PullRunner:
    """Claims and runs pulls until stopped. ``wake()`` after queueing a pull
    makes it start at once instead of at the next poll."""

    def __init__(self, db: Database, engine: PullEngine, *, workers: int = 4, poll_s: float = 1.0) -> None:
        self.db = db
        self.engine = engine
        self.workers = max(1, workers)
        self.poll_s = poll_s
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._active: dict[int, tuple[Claim, threading.Thread]] = {}
        self._lost: set[int] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def owner(self) -> str:
        return self.engine.settings.owner

    def start(self) -> PullRunner:
        leases.requeue_orphans(self.db, self.engine.clock.now())
        for target, name in ((self._claim_loop, "claimer"), (self._heartbeat_loop, "heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wake(self) -> None:
        self._wake.set()

    def active_pulls(self) -> list[int]:
        with self._lock:
            return list(self._active)

    def _claim_loop(self) -> None:
        last_orphan_check = time.monotonic()
        while not self.stop_event.is_set():
            if time.monotonic() - last_orphan_check >= self.poll_s:
                last_orphan_check = time.monotonic()
                self._guarded("requeueing orphaned pulls failed",
                              lambda: leases.requeue_orphans(self.db, self.engine.clock.now()))
            claimed = False
            with self._lock:
                free = self.workers - len(self._active)
            if free > 0 and not self.stop_event.is_set():
                claim = self._guarded("claiming a pull failed", lambda: leases.claim_next(
                    self.db, self.owner, self.engine.clock.now(), self.engine.settings.lease_s))
                if claim is not None:
                    claimed = True
                    thread = threading.Thread(target=self._run, args=(claim,), daemon=True,
                                              name=f"pull-{claim.pull_id}")
                    with self._lock:
                        self._active[claim.pull_id] = (claim, thread)
                    thread.start()
            if not claimed:
                self._wake.wait(self.poll_s)
                self._wake.clear()
        self._close_connection()

    def _guarded(self, what: str, call: Callable[[], T]) -> T | None:
        """Run a database call; on failure log it and start the next one on a
        fresh connection (the server may have dropped this one)."""
        try:
            return call()
        except Exception:  # the database may blip; try again next poll
            log.exception(what)
            self._close_connection()
            return None

    def _close_connection(self) -> None:
        try:
            self.db.close()
        except Exception:
            log.debug("closing a broken database connection failed", exc_info=True)

    def _run(self, claim: Claim) -> str:
        try:
            return self.engine.run(claim, self.stop_event)
        except Exception:  # a worker's job is a boundary; the engine handles the rest
            log.exception("pull worker failed", pull_id=str(claim.pull_id))
            return "failed"
        finally:
            with self._lock:
                self._active.pop(claim.pull_id, None)
                self._lost.discard(claim.pull_id)
            self._close_connection()
            self._wake.set()

    def _heartbeat_loop(self) -> None:
        interval = max(0.2, self.engine.settings.lease_s / 3)
        while not self.stop_event.wait(interval):
            with self._lock:
                claims = [c for c, _ in self._active.values()]
            for claim in claims:
                held = self._guarded("lease heartbeat failed", lambda c=claim: leases.renew(  # type: ignore[misc]
                    self.db, c.store_id, self.owner, c.token, self.engine.clock.now(),
                    self.engine.settings.lease_s))
                if held is False and claim.pull_id not in self._lost and self._taken_from_us(claim):
                    self._lost.add(claim.pull_id)
                    log.warning("lease lost; the pull will stop at its next write", pull_id=str(claim.pull_id),
                                store_id=str(claim.store_id))
        self._close_connection()

    def _taken_from_us(self, claim: Claim) -> bool:
        """After a failed renewal: True when another daemon holds or requeued the
        pull (not when the pull simply ended and released its lease)."""
        state = self._guarded("reading a pull's holder failed", lambda: leases.pull_holder(claim.pull_id))
        if state is None:
            return False
        pull_state, owner, token = state
        if pull_state == "running":
            return (owner, token) != (self.owner, claim.token)
        return pull_state == "queued" and claim.pull_id in self.active_pulls() and not self.stop_event.is_set()

    def stop(self, grace_s: float = 10.0) -> bool:
        """Ask every pull to stop at its next page boundary and wait up to
        ``grace_s``. Returns True when all stopped in time."""
        deadline = time.monotonic() + grace_s
        self.stop_event.set()
        self._wake.set()
        for thread in self._threads:  # no claim may start after this
            thread.join(max(0.0, min(1.0, deadline - time.monotonic())))
        with self._lock:
            workers = [t for _, t in self._active.values()]
        for thread in workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        done = not any(t.is_alive() for t in workers)
        if not done:
            log.warning("pulls still running at the end of the grace period; their leases will expire",
                        pulls=len([t for t in workers if t.is_alive()]))
        return done
