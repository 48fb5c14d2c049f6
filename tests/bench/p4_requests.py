"""P4: requests per pull against the computed minimum.

A shop of ``ORDERS`` orders over 300 days on each simulator (no rate limit,
fake clock). The initial pull (a backfill of every stream) and, an hour
later with nothing changed, an automatic pull are counted at the simulator
(token endpoints left out: they are not API reads). The baseline is the
minimum each pull needs, from the simulator's ground truth and the API's
page limits:

* a backfill: per stream, ``ceil(records / largest page)``, where the API
  allows no larger page (Etsy: 100, one listing state per call, ledger
  windows of at most 31 days; Shopify: the largest ``first`` whose query
  costs at most the 1,000-point single-query limit, computed from the
  channel's own query; Amazon: 100 orders or transactions a call, finance
  windows of at most 180 days);
* an unchanged shop: one request per stream plus its trailing window (Etsy:
  one call per listing state, a ledger page for its declared change
  detection, the receipts of its 30-day trailing window; Amazon: the
  finance transactions of the 48-hour fee window). One finance walk may
  serve both Amazon streams (the channel keeps it for the fee stream).

Per-item detail calls the API cannot avoid (Amazon ``getListingsItem`` for
an FBA item that has no name) are counted in both.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bench.common import (
    CHANNELS,
    UNLIMITED_SPEED,
    Figure,
    Result,
    Skipped,
    books,
    channel_ready,
    quiet,
)

ORDERS = 2000
QUICK_ORDERS = 600
DAY_S = 86_400
TOKEN_ROUTES = ("/oauth/", "/auth/o2/token")


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def _api_requests(sim: Any, before: Counter[str]) -> Counter[str]:
    now = Counter(sim.by_path)
    return Counter({route: n - before.get(route, 0) for route, n in now.items()
                    if n > before.get(route, 0) and not any(t in route for t in TOKEN_ROUTES)})


# --- the minimum, channel by channel ------------------------------------------------


def _etsy(sim: Any, start: datetime, end: datetime, now: datetime, unchanged: bool, made: Counter[str]) -> int:
    from makersync.plugins.etsy.channel import DEFAULT_TRAILING_DAYS, LISTING_STATES

    states = Counter(li.state for li in sim.shop.listings)
    if unchanged:
        trailing = sum(1 for o in sim.shop.orders if o.placed_at >= now - timedelta(days=DEFAULT_TRAILING_DAYS))
        # listings by state; orders: changed receipts, the ledger walk, the trailing window; fees
        return len(LISTING_STATES) + 1 + 1 + _pages(trailing, 100) + 1
    listings = sum(_pages(states[s], 100) for s in LISTING_STATES)
    orders = _pages(sum(1 for o in sim.shop.orders if start <= o.placed_at < end), 100)
    low, high = int(start.timestamp()), int(end.timestamp())
    entries = sum(1 for e in sim.data.ledger() if low <= e["created_timestamp"] <= high)
    fees = max(math.ceil((high - low) / (31 * DAY_S)), _pages(entries, 100))
    return listings + orders + fees


def _shopify(sim: Any, start: datetime, end: datetime, now: datetime, unchanged: bool, made: Counter[str]) -> int:
    from makersync.plugins.shopify import queries

    if unchanged:
        return 3
    cap = float(sim.max_query_cost)
    _orders, listings, _fees = sim.truth()
    orders = sum(1 for o in sim.shop.orders if start <= o.placed_at < end)
    return (_pages(len(listings), queries.fit_first(queries.variants_query, cap))
            + _pages(orders, queries.fit_first(queries.orders_query, cap))
            + _pages(orders, queries.fit_first(queries.fees_query, cap)))


def _amazon(sim: Any, start: datetime, end: datetime, now: datetime, unchanged: bool, made: Counter[str]) -> int:
    details = sum(n for route, n in made.items() if "getListingsItem" in route)
    txns = sim.transactions()
    if unchanged:
        recent = sum(1 for t in txns if now - timedelta(hours=48) <= t.posted < now)
        return 1 + details + 2 + _pages(recent, 100)  # listings, finance walk + search, 48 h fees
    span = math.ceil((end - start) / timedelta(days=180))
    in_window = sum(1 for t in txns if start <= t.posted < end)
    walk = max(span, _pages(in_window, 100))
    orders = sum(1 for o in sim.shop.orders if start <= o.placed_at < end)
    return 1 + details + walk + _pages(orders, 100)  # one finance walk serves orders (refunds) and fees


MINIMUM = {"etsy": _etsy, "shopify": _shopify, "amazon": _amazon}


def measure(channel: str, orders: int, tmp: Path) -> list[Result]:
    from makersync.plugins.clock import FakeClock
    from makersync.plugins.manager import load_channels
    from tests.harness import START

    clock = FakeClock(START)
    registry = load_channels()
    sim = registry.get(channel).simulator_class.create(clock=clock, orders=orders, days=300,
                                                        speed=UNLIMITED_SPEED, seed=3)
    b = books(tmp, clock=clock, registry=registry, sims={channel: sim})
    out: list[Result] = []
    try:
        account = b.account()
        store = b.connect(account, channel)
        for kind in ("initial", "automatic"):
            if kind == "automatic":
                clock.advance(3600)
                b.automatic_pull(store)
            before = Counter(sim.by_path)
            states = b.run_pulls()
            if states != ["succeeded"]:
                raise RuntimeError(f"{channel}: the {kind} pull ended {states}")
            made = _api_requests(sim, before)
            pull = _latest_pull(b, store)
            minimum = MINIMUM[channel](sim, pull.window_start, pull.window_end, clock.now(),
                                       kind == "automatic", made)
            total = sum(made.values())
            what = "backfill" if kind == "initial" else "unchanged automatic pull"
            out.append(Figure(
                "P4", f"{channel} {what}, requests", total, "requests", baseline=minimum,
                baseline_name="computed minimum", target="= the minimum (ratio 1.0)", met=total <= minimum,
                note=", ".join(f"{route.rsplit('/', 1)[-1] or route} {n}" for route, n in made.most_common(6)),
                detail={"by_route": dict(made), "orders": orders, "pull_id": pull.id}))
    finally:
        b.close()
    return out


def _latest_pull(b: Any, store_id: str) -> Any:
    from makersync.daemon.store.models import PullRow

    row = PullRow.select().where(PullRow.store == int(store_id)).order_by(PullRow.id.desc()).first()
    return row


def run(quick: bool = False) -> list[Result]:
    quiet()
    orders = QUICK_ORDERS if quick else ORDERS
    results: list[Result] = []
    for channel in CHANNELS:
        why = channel_ready(channel)
        if why:
            results.append(Skipped("P4", f"{channel} requests", why))
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-p4-{channel}-") as tmp:
            results.extend(measure(channel, orders, Path(tmp)))
    return results


if __name__ == "__main__":
    import sys

    for result in run(quick="--quick" in sys.argv):
        print(json.dumps(result.to_json(), default=str))
