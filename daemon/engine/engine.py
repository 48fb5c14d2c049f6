"""The pull engine: runs one claimed pull of one store and leaves the books right.

Streams run in the order listings, orders, fees, so order lines find their
listings and fees their orders. Each page is written in one transaction with
the pull's checkpoint (R14); a pull killed anywhere resumes from the last
committed page. A pull stops at a page boundary when asked (shutdown,
cancel) and goes back to the queue or ends cancelled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import peewee
import structlog

from makersync.daemon import rules
from makersync.daemon.engine.events import PullEvents
from makersync.daemon.engine.waiting import PullClock, StopRequested
from makersync.daemon.engine.windows import floor_start, plan_window
from makersync.daemon.logging import scrub
from makersync.daemon.rules import Plan
from makersync.daemon.store import ingest, leases, pullstate, secrets
from makersync.daemon.store.db import Database
from makersync.daemon.store.leases import Claim, LeaseLost
from makersync.plugins import (
    AuthError,
    Channel,
    ChannelContext,
    ChannelError,
    CursorExpired,
    LimiterRegistry,
    RequestStats,
    Window,
)
from makersync.plugins.clock import Clock
from makersync.plugins.manager import ChannelRegistry

log = structlog.get_logger("makersync.engine")

STREAMS = ("listings", "orders", "fees")
DEFAULT_OVERLAP = timedelta(minutes=15)


__all__ = ["EngineSettings", "PullEngine", "StopRequested"]


@dataclass
class EngineSettings:
    owner: str
    lease_s: float = 60.0
    overlap: timedelta = DEFAULT_OVERLAP


class PullEngine:
    """Runs pulls. Shared by all worker threads; holds no per-pull state."""

    def __init__(
        self,
        db: Database,
        registry: ChannelRegistry,
        box: secrets.SecretBox,
        *,
        clock: Clock,
        plans: Callable[[], Mapping[str, Plan]],
        channel_settings: Callable[[str], Mapping[str, Any]],
        settings: EngineSettings,
        limiters: LimiterRegistry | None = None,
        transport_for: Callable[[str], httpx.BaseTransport | None] = lambda _name: None,
        events: PullEvents | None = None,
        on_secret: Callable[[type[Channel], Mapping[str, str]], None] = lambda _cls, _creds: None,
        pull_clock: PullClock | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.box = box
        self.clock = clock
        self.plans = plans
        self.channel_settings = channel_settings
        self.settings = settings
        self.limiters = limiters or LimiterRegistry(clock)
        self.transport_for = transport_for
        self.events = events or PullEvents()
        self.on_secret = on_secret
        # Channels wait on this clock: a wait stops with the pull and shows on it.
        self.pull_clock = pull_clock or PullClock(clock)

    # -- one pull ---------------------------------------------------------

    def run(self, claim: Claim, stop: threading.Event) -> str:
        """Run a claimed pull to its end (or to a page boundary when ``stop``
        is set). Returns the pull's state afterwards."""
        # The plan first, then the holder: a daemon paused between the two
        # (or before both) past its lease sees another holder, and says so,
        # whatever state the new holder has left the pull in.
        plan = pullstate.load_plan(self.db, claim.pull_id)
        holder = leases.pull_holder(claim.pull_id)
        if plan is None or holder is None:
            return "missing"
        if holder != ("running", self.settings.owner, claim.token):
            # Claimed, then paused past the lease before starting: another daemon has it.
            log.warning("lease lost; another daemon owns this store now", pull_id=str(claim.pull_id),
                        store_id=str(claim.store_id))
            return "lease_lost"
        if plan.state != "running":
            return plan.state
        bound = structlog.contextvars.bound_contextvars(
            account_id=str(plan.account_id), store_id=str(plan.store_id), pull_id=str(plan.pull_id),
            channel=plan.channel)

        def report(reason: str) -> None:
            pullstate.set_waiting_reason(self.db, claim.pull_id, self.settings.owner, claim.token, reason)
            self.events.bump(claim.pull_id)

        with bound, self.pull_clock.bound(stop.is_set, report):
            return self._run(plan, claim, stop)

    def _run(self, plan: pullstate.PullPlan, claim: Claim, stop: threading.Event) -> str:
        lease = (self.settings.owner, claim.token)
        started = time.monotonic()
        stats = RequestStats(requests=plan.requests_made, throttled=plan.throttled)
        try:
            plan = self._ensure_window(plan, claim)
            channel = self._channel(plan, stats)
            try:
                self._pull_streams(plan, channel, stats, claim, stop)
            finally:
                channel.close()
        except StopRequested:
            if pullstate.cancel_requested(plan.pull_id):
                return self._finish(plan, "cancelled", "cancelled by request", lease)
            try:
                self._write_despite_a_dropped_connection(
                    lambda: pullstate.requeue(self.db, plan.pull_id, lease, self.clock.now()))
            except LeaseLost:
                log.warning("lease lost; another daemon owns this store now")
                return "lease_lost"
            self.events.bump(plan.pull_id)
            log.info("pull paused at a page boundary", requests=stats.requests)
            return "queued"
        except LeaseLost:
            log.warning("lease lost; another daemon owns this store now")
            return "lease_lost"
        except AuthError as exc:
            return self._finish(plan, "failed", f"the channel refused the credentials; reconnect the store ({exc})",
                                lease, store_state="needs_reconnect")
        except ChannelError as exc:
            return self._finish(plan, "failed", f"{type(exc).__name__}: {exc}", lease)
        except Exception:  # a worker's job is a boundary: log it, fail the pull, keep the daemon
            log.exception("pull crashed")
            # The error may have been the database dropping this thread's connection
            # (a daemon paused inside a transaction): end the pull on a fresh one.
            self._reset_connection()
            return self._finish(plan, "failed", "internal error; see the daemon log", lease)
        high_water = plan.as_of if plan.kind in ("initial", "automatic") and not plan.dry_run else None
        log.info("pull succeeded", requests=stats.requests, throttled=stats.throttled,
                 seconds=round(time.monotonic() - started, 3))
        return self._finish(plan, "succeeded", "", lease, high_water=high_water)

    def _finish(self, plan: pullstate.PullPlan, state: str, error: str, lease: tuple[str, int], *,
                high_water: Any = None, store_state: str | None = None) -> str:
        error = scrub(error)  # a channel's error text may quote a credential: never store it (O2)

        def write() -> None:
            pullstate.finish(self.db, plan.pull_id, state=state, error=error, now=self.clock.now(),
                             high_water=high_water, store_state=store_state, lease=lease)

        try:
            self._write_despite_a_dropped_connection(write)
        except LeaseLost:  # fencing: a daemon that lost its lease writes nothing (QUALITY S1)
            log.warning("lease lost before the pull could end; another daemon owns this store now",
                        state=state)
            return "lease_lost"
        self.events.bump(plan.pull_id)
        if state != "succeeded":
            log.warning("pull ended", state=state, error=error)
        fresh = pullstate.load_plan(self.db, plan.pull_id)
        self.registry.notify("makersync_pull_finished", pull={
            "id": str(plan.pull_id), "store_id": str(plan.store_id), "channel": plan.channel, "kind": plan.kind,
            "state": state, "counts": fresh.counts if fresh else {}, "error": error})
        return state

    def _write_despite_a_dropped_connection(self, write: Callable[[], None]) -> None:
        """Run ``write``; when the database dropped this thread's connection
        meanwhile (PostgreSQL ends a session left idle in a transaction for a
        lease's length, as when the daemon was paused), run it once more on a
        fresh one. The lease check inside then decides: a daemon that lost its
        lease gets LeaseLost and writes nothing; one that kept it ends (or
        requeues) its pull now rather than leaving it to expire and run again
        elsewhere."""
        try:
            write()
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            log.warning("the database dropped the connection; writing again on a fresh one",
                        error=scrub(str(exc)).strip())
            self._reset_connection()
            write()

    def _reset_connection(self) -> None:
        try:
            self.db.close()
        except Exception:  # already unusable: the next query opens a new one
            log.debug("closing a broken database connection failed", exc_info=True)

    def _ensure_window(self, plan: pullstate.PullPlan, claim: Claim) -> pullstate.PullPlan:
        if plan.checkpoint is not None and plan.as_of is not None:
            return plan  # resuming: keep the window the pull started with
        now = self.clock.now()
        lookback = self.plans()[plan.account_plan].lookback_days if plan.account_plan in self.plans() else 365
        floor = floor_start(plan.account_start_date, plan.account_time_zone, lookback, now)
        window = plan_window(kind=plan.kind, now=now, floor=floor, stored_start=plan.window_start,
                             stored_end=plan.window_end, high_water=plan.high_water_mark,
                             reachable_since=rules.reachable_since(now, plan.reachable_since, plan.reach),
                             overlap=self.settings.overlap)
        pullstate.save_window(self.db, plan.pull_id, window.placed_from, window.placed_to,
                              window.modified_since, now, window.warnings, store_id=plan.store_id,
                              lease=(self.settings.owner, claim.token, self.settings.lease_s))
        loaded = pullstate.load_plan(self.db, plan.pull_id)
        assert loaded is not None
        return loaded

    def _channel(self, plan: pullstate.PullPlan, stats: RequestStats) -> Channel:
        cls = self.registry.get(plan.channel)
        credentials = self.box.decrypt_json(plan.credentials_encrypted)
        self.on_secret(cls, credentials)

        def save(creds: dict[str, str]) -> None:
            self.on_secret(cls, creds)
            secrets.save_credentials(self.db, self.box, plan.store_id, creds)

        ctx = ChannelContext(credentials=credentials, settings=self.channel_settings(plan.channel),
                             clock=self.pull_clock, limiters=self.limiters, save_credentials=save,
                             transport=self.transport_for(plan.channel), stats=stats)
        return cls(ctx)

    # -- streams and pages --------------------------------------------------

    def _pull_streams(self, plan: pullstate.PullPlan, channel: Channel, stats: RequestStats, claim: Claim,
                      stop: threading.Event) -> None:
        checkpoint = dict(plan.checkpoint or {"done": [], "stream": None, "cursor": None})
        done: list[str] = list(checkpoint.get("done", []))
        counts = dict(plan.counts)
        progress = dict(plan.progress)
        window = Window(plan.window_start, plan.window_end, plan.modified_since)
        ctx = ingest.IngestContext(
            account_id=plan.account_id, store_id=plan.store_id, channel=plan.channel, pull_id=plan.pull_id,
            pull_kind=plan.kind, now=self.clock.now(), default_location_id=self._default_location(plan),
            automatic_shipped_date_since=plan.automatic_shipped_date_since)
        set_aside_total = plan.set_aside_count
        for stream in [s for s in STREAMS if s in channel.pulls and s not in done]:
            cursor = checkpoint.get("cursor") if checkpoint.get("stream") == stream else None
            progress.update(stage=stream, stream_records=0, estimated_records_total=0)
            started = time.monotonic()
            for attempt in (1, 2):
                try:
                    for page in self._iterate(channel, stream, window, cursor):
                        if stop.is_set() or pullstate.cancel_requested(plan.pull_id):
                            raise StopRequested
                        page_counts = ingest.PageCounts()
                        progress["pages_done"] = int(progress.get("pages_done", 0)) + 1
                        progress["records_done"] = int(progress.get("records_done", 0)) + len(page.records)
                        progress["stream_records"] = int(progress.get("stream_records", 0)) + len(page.records)
                        if page.estimated_total:
                            progress["estimated_records_total"] = page.estimated_total
                        progress["eta_seconds"] = _eta(progress, time.monotonic() - started)
                        page_counts.add("records_set_aside", len(page.set_aside))
                        set_aside_total += len(page.set_aside)
                        cursor = dict(page.cursor)
                        # R14: the page's records and its checkpoint commit as one unit
                        with self.db.write_tx():
                            self._write_page(plan, stream, page.records, page_counts, ctx)
                            for key, n in page_counts.values.items():
                                counts[key] = counts.get(key, 0) + n
                            pullstate.save_progress(
                                self.db, plan.pull_id, store_id=plan.store_id, now=self.clock.now(),
                                checkpoint={"done": done, "stream": stream, "cursor": cursor},
                                counts=counts, progress=progress, requests_made=stats.requests,
                                throttled=stats.throttled, set_aside=page.set_aside,
                                set_aside_count=set_aside_total,
                                lease=(self.settings.owner, claim.token, self.settings.lease_s))
                        self.events.bump(plan.pull_id)
                        self._notify_orders(plan, page_counts)
                    break
                except CursorExpired:
                    if attempt == 2:
                        raise
                    log.warning("page token expired; restarting the stream", stream=stream)
                    cursor = None
            done.append(stream)
            with self.db.write_tx():
                pullstate.save_progress(
                    self.db, plan.pull_id, store_id=plan.store_id, now=self.clock.now(),
                    checkpoint={"done": done, "stream": None, "cursor": None}, counts=counts, progress=progress,
                    requests_made=stats.requests, throttled=stats.throttled, set_aside_count=set_aside_total,
                    lease=(self.settings.owner, claim.token, self.settings.lease_s))
            self.events.bump(plan.pull_id)

    def _default_location(self, plan: pullstate.PullPlan) -> int | None:
        """R8: the integration's default location, only while the plan allows one."""
        account_plan = self.plans().get(plan.account_plan)
        return plan.default_location_id if account_plan and account_plan.default_location_allowed else None

    def _iterate(self, channel: Channel, stream: str, window: Window, cursor: Any) -> Any:
        if stream == "listings":
            return channel.iter_listings(cursor)
        if stream == "orders":
            return channel.iter_orders(window, cursor)
        return channel.iter_fees(fee_window(channel, window), cursor)

    def _write_page(self, plan: pullstate.PullPlan, stream: str, records: Any, counts: ingest.PageCounts,
                    ctx: ingest.IngestContext) -> None:
        """Write one page inside the caller's transaction; a dry run writes it
        in a savepoint it rolls back, so only its counts remain."""
        writer = {"listings": ingest.write_listing_page, "orders": ingest.write_order_page,
                  "fees": ingest.write_fee_page}[stream]
        if not records:
            return
        if plan.dry_run:
            with self.db.write_tx() as savepoint:
                writer(ctx, records, counts)
                savepoint.rollback()
            return
        writer(ctx, records, counts)

    def _notify_orders(self, plan: pullstate.PullPlan, counts: ingest.PageCounts) -> None:
        if not counts.changed_orders or not self.registry.pm.hook.makersync_order_changed.get_hookimpls():
            return
        for order_id, created in counts.changed_orders:
            self.registry.notify("makersync_order_changed",
                                 order={"id": str(order_id), "store_id": str(plan.store_id)}, created=created)


def fee_window(channel: Channel, window: Window) -> Window:
    """The fees an automatic pull reads: those that occurred since its
    modified-since mark, less the channel's declared settling lag (Amazon's
    48 hours), never before the window; other pulls read their whole window.
    A fee, once posted, does not change, so older ones need no second read."""
    if window.modified_since is None:
        return window
    lag = timedelta(hours=channel.change_detection.fee_trailing_window_hours)
    start = max(window.placed_from, window.modified_since - lag)
    if start >= window.placed_to:
        return window
    return Window(start, window.placed_to, window.modified_since)


def _eta(progress: Mapping[str, Any], elapsed_s: float) -> int:
    total = int(progress.get("estimated_records_total") or 0)
    done = int(progress.get("stream_records") or 0)
    if not total or not done or done >= total:
        return 0
    return int(elapsed_s / done * (total - done))
