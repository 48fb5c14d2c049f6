"""The worker pool: claims queued pulls (one per store at a time, R4) and runs
them on a bounded number of threads, renewing their leases by heartbeat."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import structlog

from makersync.daemon.engine.engine import PullEngine
from makersync.daemon.store import leases
from makersync.daemon.store.db import Database
from makersync.daemon.store.leases import Claim

log = structlog.get_logger("makersync.runner")


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
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pull")
        self._active: dict[int, tuple[Claim, Future[str]]] = {}
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
        while not self.stop_event.is_set():
            claimed = False
            with self._lock:
                free = self.workers - len(self._active)
            if free > 0:
                try:
                    claim = leases.claim_next(self.db, self.owner, self.engine.clock.now(),
                                              self.engine.settings.lease_s)
                except Exception:  # the database may blip; try again next poll
                    log.exception("claiming a pull failed")
                    claim = None
                if claim is not None:
                    claimed = True
                    future = self._pool.submit(self._run, claim)
                    with self._lock:
                        self._active[claim.pull_id] = (claim, future)
            if not claimed:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def _run(self, claim: Claim) -> str:
        try:
            return self.engine.run(claim, self.stop_event)
        finally:
            with self._lock:
                self._active.pop(claim.pull_id, None)
            self.db.close()
            self._wake.set()

    def _heartbeat_loop(self) -> None:
        interval = max(0.2, self.engine.settings.lease_s / 3)
        while not self.stop_event.wait(interval):
            with self._lock:
                claims = [c for c, _ in self._active.values()]
            for claim in claims:
                try:
                    leases.renew(self.db, claim.store_id, self.owner, claim.token, self.engine.clock.now(),
                                 self.engine.settings.lease_s)
                except Exception:
                    log.exception("lease heartbeat failed", store_id=claim.store_id)

    def stop(self, grace_s: float = 10.0) -> bool:
        """Ask every pull to stop at its next page boundary and wait up to
        ``grace_s``. Returns True when all stopped in time."""
        self.stop_event.set()
        self._wake.set()
        with self._lock:
            futures = [f for _, f in self._active.values()]
        done = True
        for future in futures:
            try:
                future.result(timeout=grace_s)
            except Exception:
                done = False
        self._pool.shutdown(wait=False, cancel_futures=True)
        return done
