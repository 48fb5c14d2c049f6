"""P1: orders per second through the whole pipeline, against the raw floor.

For each channel: a shop of ``ORDERS`` orders (about 2.3 lines each) on the
channel's simulator, in-process with no rate limit; the daemon's engine
runs an initial pull into SQLite (listings, then orders; fees are not part
of this figure). The orders stream is timed from its first request to the
commit of its last page: HTTP through httpx, the channel's mapping,
matching and the rules, the upsert and the checkpoint.

* cold: the simulator renders every page as it is asked (its own cost, which
  on a real channel is the channel's machines', is included);
* warm (the figure): the same pull into a fresh database, the simulator
  answering from the pages it rendered in the cold run;
* floor (the baseline): ``json.loads`` of the same response bodies plus
  ``sqlite3.executemany`` of the same rows (orders, lines, refunds,
  adjustments) in one transaction per page, into the same schema with
  foreign keys off: the least any pipeline could do.

Rates are per second of process CPU time (the pipeline runs in one thread;
CPU time is what neighbours on a shared machine disturb least); wall-clock
rates are in the detail. Run ``python -m tests.bench.p1_ingest --profile
etsy`` for a cProfile of the warm run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.bench.common import (
    CHANNELS,
    UNLIMITED_SPEED,
    Clocked,
    Figure,
    Result,
    Skipped,
    Traffic,
    books,
    channel_ready,
    clocked,
    quiet,
    stream_timer,
    without_fees,
)

ORDERS = 10_000
QUICK_ORDERS = 2_000
DAYS = 300
TARGET_RATE = 10_000.0
TARGET_RATIO = 0.3
REPEATS = 2
# What a warm simulator may answer from memory: Shopify reads through GraphQL POSTs
# (a backfill this size is paged, not a bulk operation); token endpoints are POSTs too.
CACHED_METHODS = {"etsy": ("GET",), "shopify": ("GET", "POST"), "amazon": ("GET",)}
SHOPIFY_BULK_ORDERS = 25_000  # plugins/shopify DEFAULT_BULK_THRESHOLD: larger backfills run as a bulk operation


@dataclass
class StreamRun:
    orders: int = 0
    stored: int = 0
    time: Clocked = field(default_factory=Clocked)
    bodies: list[bytes] = field(default_factory=list)
    pages: list[tuple[Any, ...]] = field(default_factory=list)
    requests: int = 0
    cache_hits: int = 0


def _pull(tmp: Path, clock: Any, registry: Any, channel: str, sim: Any,
          profile: cProfile.Profile | None = None) -> StreamRun:
    run = StreamRun()
    traffic = Traffic()
    b = books(tmp, clock=clock, registry=registry, sims={channel: sim}, traffic=traffic)
    try:
        account = b.account()
        b.connect(account, channel)
        requests, hits = sim.requests, sim.cache_hits
        with stream_timer(b.app, "orders", lambda page: run.pages.append(page.records), traffic) as timed:
            if profile is not None:
                profile.enable()
            states = b.run_pulls()
            if profile is not None:
                profile.disable()
        if states != ["succeeded"]:
            raise RuntimeError(f"{channel}: the initial pull ended {states}")
        run.time = timed
        run.bodies = traffic.bodies
        run.orders = sum(len(records) for records in run.pages)
        run.requests, run.cache_hits = sim.requests - requests, sim.cache_hits - hits
        from makersync.daemon.store.models import OrderRow

        run.stored = OrderRow.select().count()
    finally:
        b.close()
    return run


# --- the floor ------------------------------------------------------------------


def _db_text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def _floor_rows(pages: list[tuple[Any, ...]]) -> list[tuple[list[tuple[Any, ...]], ...]]:
    """Each page's rows as the database stores them (built before the clock runs)."""
    out = []
    order_id = 0
    for records in pages:
        orders, lines, refunds, adjustments = [], [], [], []
        for rec in records:
            order_id += 1
            orders.append(tuple(_db_text(v) for v in (
                order_id, 1, 1, "bench", rec.external_id, rec.order_number, rec.status.value, rec.channel_status,
                rec.placed_at, rec.modified_at, rec.shipped_at, False, rec.cancelled_at, None, rec.currency,
                rec.subtotal, rec.shipping, rec.tax, rec.discount, rec.total, rec.refunded, rec.fulfillment, "",
                False, "{}", None, "0" * 32, 1, rec.placed_at, rec.placed_at, rec.placed_at)))
            for pos, ln in enumerate(rec.lines):
                lines.append(tuple(_db_text(v) for v in (
                    order_id, pos, ln.external_id, 1, ln.listing_external_id, ln.variation_external_id, ln.sku,
                    ln.title, ln.quantity, ln.unit_price, 1)))
            refunds.extend(tuple(_db_text(v) for v in (order_id, r.external_id, r.amount, r.created_at, r.reason))
                           for r in rec.refunds)
            adjustments.extend(tuple(_db_text(v) for v in (order_id, a.external_id, a.kind, a.amount,
                                                           a.created_at, a.note)) for a in rec.adjustments)
        out.append((orders, lines, refunds, adjustments))
    return out


FLOOR_SQL = (
    'INSERT INTO "orders" ("id", "account_id", "store_id", "channel", "external_id", "order_number", "status", '
    '"channel_status", "placed_at", "modified_at", "shipped_at", "shipped_at_auto", "cancelled_at", '
    '"location_id", "currency", "subtotal", "shipping", "tax", "discount", "total", "refunded", "fulfillment", '
    '"note", "locally_edited", "local_edits", "copied_from", "payload_hash", "last_pull_id", '
    '"first_pulled_at", "created_at", "updated_at") VALUES (' + ", ".join(["?"] * 31) + ")",
    'INSERT INTO "order_lines" ("order_id", "position", "external_id", "listing_id", "listing_external_id", '
    '"variation_external_id", "sku", "title", "quantity", "unit_price", "product_id") VALUES '
    '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    'INSERT INTO "refunds" ("order_id", "external_id", "amount", "created_at", "reason") VALUES (?, ?, ?, ?, ?)',
    'INSERT INTO "adjustments" ("order_id", "external_id", "kind", "amount", "created_at", "note") '
    'VALUES (?, ?, ?, ?, ?, ?)',
)


def _floor(tmp: Path, bodies: list[bytes], pages: list[tuple[Any, ...]]) -> Clocked:
    from makersync.daemon.store import migrations
    from makersync.daemon.store.db import SQLITE_FILENAME, open_database

    db = open_database(None, tmp)
    migrations.migrate(db)
    db.close()
    rows = _floor_rows(pages)
    conn = sqlite3.connect(tmp / SQLITE_FILENAME, isolation_level=None)
    for pragma in ("journal_mode = wal", "synchronous = NORMAL", "foreign_keys = OFF"):
        conn.execute(f"PRAGMA {pragma}")
    try:
        with clocked() as spent:
            for body in bodies:
                json.loads(body)
            for page in rows:
                conn.execute("BEGIN IMMEDIATE")
                for sql, values in zip(FLOOR_SQL, page, strict=True):
                    if values:
                        conn.executemany(sql, values)
                conn.execute("COMMIT")
    finally:
        conn.close()
    return spent


# --- one channel --------------------------------------------------------------------


def measure(channel: str, orders: int, root: Path, profile: cProfile.Profile | None = None) -> list[Result]:
    from makersync.plugins.clock import FakeClock
    from makersync.plugins.manager import load_channels
    from tests.harness import START

    clock = FakeClock(START)
    registry = load_channels()
    without_fees(registry, channel)
    sim = registry.get(channel).simulator_class.create(clock=clock, orders=orders, days=DAYS,
                                                        speed=UNLIMITED_SPEED, seed=11)
    methods = CACHED_METHODS.get(channel, ("GET",))
    if channel == "shopify" and orders >= SHOPIFY_BULK_ORDERS:
        methods = ("GET",)  # a bulk operation's status polls are POSTs whose answer must change
    sim.cache_responses(methods=methods)
    cold = _pull(root / "cold", clock, registry, channel, sim)
    warm = min((_pull(root / f"warm{i}", clock, registry, channel, sim, profile if i == 0 else None)
                for i in range(1 if profile else REPEATS)), key=lambda r: r.time.cpu_s)
    floor = min((_floor(root / f"floor{i}", warm.bodies, warm.pages) for i in range(REPEATS)),
                key=lambda c: c.cpu_s)
    n = warm.orders
    rate, floor_rate = n / warm.time.cpu_s, n / floor.cpu_s
    lines = sum(len(r.lines) for records in warm.pages for r in records)
    met = rate >= TARGET_RATE and rate / floor_rate >= TARGET_RATIO
    detail = {
        "orders": n, "orders_stored": warm.stored, "lines_per_order": round(lines / max(n, 1), 2),
        "pages": len(warm.pages), "requests": warm.requests, "simulator_cache_hits": warm.cache_hits,
        "warm_cpu_s": round(warm.time.cpu_s, 3), "warm_wall_s": round(warm.time.wall_s, 3),
        "warm_wall_orders_per_s": round(n / warm.time.wall_s), "floor_cpu_s": round(floor.cpu_s, 3),
        "floor_wall_s": round(floor.wall_s, 3), "cold_cpu_s": round(cold.time.cpu_s, 3),
        "cold_wall_s": round(cold.time.wall_s, 3), "response_bytes": sum(len(b) for b in warm.bodies),
    }
    note = (f"{n:,} orders, {lines / max(n, 1):.1f} lines each; wall {n / warm.time.wall_s:,.0f}/s; "
            f"floor wall {n / floor.wall_s:,.0f}/s")
    if warm.cache_hits < warm.requests:
        note += f"; {warm.requests - warm.cache_hits} of {warm.requests} pages rendered again"
    return [
        Figure("P1", f"{channel} ingest, orders/s", rate, "orders/s", baseline=floor_rate,
               baseline_name="json.loads + executemany", target=f">= {TARGET_RATE:,.0f}/s and >= {TARGET_RATIO}x floor",
               met=met, note=note, detail=detail),
        Figure("P1", f"{channel} ingest, simulator rendering too", n / cold.time.cpu_s, "orders/s",
               baseline=floor_rate, baseline_name="json.loads + executemany",
               note=f"cold simulator: every page rendered and serialised in-process (wall "
                    f"{n / cold.time.wall_s:,.0f}/s)"),
    ]


def run(quick: bool = False) -> list[Result]:
    quiet()
    orders = QUICK_ORDERS if quick else ORDERS
    results: list[Result] = []
    for channel in CHANNELS:
        why = channel_ready(channel)
        if why:
            results.append(Skipped("P1", f"{channel} ingest", why))
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-p1-{channel}-") as tmp:
            results.extend(measure(channel, orders, Path(tmp)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("channels", nargs="*", default=list(CHANNELS))
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--profile", action="store_true", help="cProfile the warm run")
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    quiet()
    for channel in args.channels:
        profile = cProfile.Profile() if args.profile else None
        with tempfile.TemporaryDirectory(prefix=f"bench-p1-{channel}-") as tmp:
            for result in measure(channel, args.orders, Path(tmp), profile):
                print(json.dumps(result.to_json(), default=str))
        if profile is not None:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(40)


if __name__ == "__main__":
    main()
