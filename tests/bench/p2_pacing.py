"""P2 and P3: how well a pull uses the channel's allowance, on a fake clock.

Each channel's simulator enforces its published limits (``speed`` 1). Every
API call of a pull is logged with the limits it draws on; the baseline is an
*ideal client* replaying the same calls in the same order, each sent the
moment the channel's buckets (full when the pull starts) allow it. So

* P2 (a backfill of ``LONG_ORDERS`` orders, every stream): share of the
  ceiling used = ideal time / the pull's time on the clock (target >= 97 %),
  and the share of calls answered 429 (or Shopify's THROTTLED) (<= 0.1 %);
* P3 (a short pull of about 30 calls, as an hourly pull makes, the
  allowance full after an idle hour): the pull's time / the ideal time
  (target <= 1.2x).

The limits are the simulators' own (QUALITY "Where the limits are"): Etsy 10
calls/s and 10,000/day per app; Shopify 2,000 cost points restoring 100/s
(a query needs its requested cost, then is charged its actual cost), REST 40
restoring 2/s; Amazon a bucket per operation (searchOrders burst 20 then one
call every 180 s; listTransactions burst 10, 0.5/s; ...).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.bench.common import CHANNELS, Figure, Result, Skipped, books, channel_ready, quiet

LONG_ORDERS = {"etsy": 3000, "shopify": 3000, "amazon": 3000}
SHORT_ORDERS = {"etsy": 500, "shopify": 320, "amazon": 1200}
"""Shops whose whole initial pull makes about 30 calls."""
QUICK_FACTOR = 0.4
TARGET_SHARE = 0.97
TARGET_THROTTLED = 0.001
TARGET_SHORT = 1.2
LEASE_S = 7 * 86400.0

Uses = list[tuple[str, float, float, float, float]]
"""(bucket, rate per s, capacity, tokens needed to send, tokens spent)."""


@dataclass
class Call:
    at_s: float
    uses: Uses
    throttled: bool


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)
    recording: bool = False

    def wrap(self, sim: Any, limits: Callable[[httpx.Request, httpx.Response], tuple[Uses, bool]]
             ) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            response = sim(request)
            if self.recording:
                uses, throttled = limits(request, response)
                if uses or throttled:
                    self.calls.append(Call(sim.clock.monotonic(), uses, throttled))
            return response
        return httpx.MockTransport(handle)


# --- each channel's limits, as its simulator enforces them --------------------------


def etsy_limits(sim: Any) -> Callable[[httpx.Request, httpx.Response], tuple[Uses, bool]]:
    def limits(request: httpx.Request, response: httpx.Response) -> tuple[Uses, bool]:
        if "/oauth/" in request.url.path:
            return [], False
        if response.status_code == 429:
            return [], True
        qps, qpd = float(sim.qps), float(sim.qpd)
        return [("second", qps, qps, 1.0, 1.0), ("day", qpd / 86400, qpd, 1.0, 1.0)], False
    return limits


def shopify_limits(sim: Any) -> Callable[[httpx.Request, httpx.Response], tuple[Uses, bool]]:
    def limits(request: httpx.Request, response: httpx.Response) -> tuple[Uses, bool]:
        path = request.url.path
        if path.endswith("access_scopes.json"):
            if response.status_code == 429:
                return [], True
            return [("rest", 2.0, 40.0, 1.0, 1.0)], False
        if not path.endswith("graphql.json"):
            return [], False
        try:
            body = json.loads(response.content)
        except ValueError:
            return [], False
        errors = body.get("errors") or []
        if any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            return [], True
        cost = (body.get("extensions") or {}).get("cost") or {}
        requested, actual = cost.get("requestedQueryCost"), cost.get("actualQueryCost")
        if requested is None:
            return [], False
        capacity, rate = float(sim.bucket_size), float(sim.restore_rate)
        spent = float(actual if actual is not None else requested)
        return [("points", rate, capacity, min(float(requested), capacity), spent)], False
    return limits


def amazon_limits(sim: Any) -> Callable[[httpx.Request, httpx.Response], tuple[Uses, bool]]:
    from makersync.plugins.amazon.simroutes import operation
    from makersync.plugins.amazon.simulator import RATES

    def limits(request: httpx.Request, response: httpx.Response) -> tuple[Uses, bool]:
        op = operation(request)
        if op is None or op not in RATES:
            return [], False
        if response.status_code == 429:
            return [], True
        rate, burst = RATES[op]
        return [(op, float(rate), float(burst), 1.0, 1.0)], False
    return limits


LIMITS = {"etsy": etsy_limits, "shopify": shopify_limits, "amazon": amazon_limits}


def ideal_seconds(calls: list[Call]) -> float:
    """How long an ideal client takes to send ``calls`` in order, starting
    with every bucket full and sending each call the moment it can."""
    tokens: dict[str, float] = {}
    now = 0.0
    stamp: dict[str, float] = {}
    for call in calls:
        if call.throttled:
            continue
        while True:
            wait = 0.0
            for key, rate, capacity, need, _spent in call.uses:
                have = min(capacity, tokens.get(key, capacity) + (now - stamp.get(key, 0.0)) * rate)
                tokens[key], stamp[key] = have, now
                if have + 1e-9 < need:
                    wait = max(wait, (need - have) / rate)
            if wait <= 0:
                break
            now += wait
        for key, _rate, _capacity, _need, spent in call.uses:
            tokens[key] -= spent
    return now


# --- one pull ----------------------------------------------------------------------


@dataclass
class PullRun:
    calls: int
    throttled: int
    seconds: float
    ideal_s: float
    requests: int


def _pull(channel: str, orders: int, tmp: Path, idle_s: float = 0.0) -> PullRun:
    from makersync.plugins.clock import FakeClock
    from tests.harness import START

    clock = FakeClock(START)
    from makersync.plugins.manager import load_channels

    registry = load_channels()
    sim = registry.get(channel).simulator_class.create(clock=clock, orders=orders, days=300, seed=5)
    log = CallLog()
    b = books(tmp, clock=clock, registry=registry, sims={channel: sim})
    b.app.transports[channel] = log.wrap(sim, LIMITS[channel](sim))
    # no heartbeat thread renews the lease in this synchronous harness, and a
    # backfill waits hours on the fake clock (Amazon: one search every 180 s)
    b.app.engine.settings.lease_s = LEASE_S
    try:
        account = b.account()
        b.connect(account, channel)
        clock.advance(idle_s)  # the allowance refills as it would between two hourly pulls
        throttled, requests = sim.throttled, sim.requests
        log.recording = True
        started = clock.monotonic()
        states = b.run_pulls()
        seconds = clock.monotonic() - started
        log.recording = False
        if states != ["succeeded"]:
            raise RuntimeError(f"{channel}: the pull ended {states}")
        calls = [c for c in log.calls if not c.throttled]
        return PullRun(calls=len(calls), throttled=sim.throttled - throttled, seconds=seconds,
                       ideal_s=ideal_seconds(log.calls), requests=sim.requests - requests)
    finally:
        b.close()


def measure(channel: str, root: Path, quick: bool = False) -> list[Result]:
    factor = QUICK_FACTOR if quick else 1.0
    long = _pull(channel, int(LONG_ORDERS[channel] * factor), root / "long")
    short = _pull(channel, SHORT_ORDERS[channel], root / "short", idle_s=timedelta(hours=2).total_seconds())
    share = long.ideal_s / long.seconds if long.seconds else 1.0
    throttled_share = long.throttled / max(long.requests, 1)
    short_ratio = short.seconds / short.ideal_s if short.ideal_s else (1.0 if short.seconds < 1e-6 else float("inf"))
    return [
        Figure("P2", f"{channel} backfill, share of the ceiling", share * 100, "%",
               baseline=100.0, baseline_name="ideal client, same calls", ratio=share,
               target=f">= {TARGET_SHARE:.0%}", met=share >= TARGET_SHARE,
               note=f"{long.calls} calls in {long.seconds:,.0f} s on the clock; ideal {long.ideal_s:,.0f} s",
               detail={"calls": long.calls, "seconds": long.seconds, "ideal_s": long.ideal_s,
                       "orders": int(LONG_ORDERS[channel] * factor)}),
        Figure("P2", f"{channel} backfill, calls answered 429", throttled_share * 100, "%",
               target=f"<= {TARGET_THROTTLED:.1%}", met=throttled_share <= TARGET_THROTTLED,
               note=f"{long.throttled} of {long.requests} requests",
               detail={"throttled": long.throttled, "requests": long.requests}),
        Figure("P3", f"{channel} short pull, time vs limit", short.seconds, "s", baseline=short.ideal_s,
               baseline_name="ideal client, same calls", ratio=short_ratio,
               target=f"<= {TARGET_SHORT}x the lower bound", met=short_ratio <= TARGET_SHORT,
               note=f"{short.calls} calls, {short.throttled} throttled, after an idle 2 h",
               detail={"calls": short.calls, "seconds": short.seconds, "ideal_s": short.ideal_s,
                       "throttled": short.throttled, "orders": SHORT_ORDERS[channel]}),
    ]


def run(quick: bool = False) -> list[Result]:
    quiet()
    results: list[Result] = []
    for channel in CHANNELS:
        why = channel_ready(channel)
        if why:
            results.append(Skipped("P2/P3", f"{channel} pacing", why))
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-p2-{channel}-") as tmp:
            results.extend(measure(channel, Path(tmp), quick))
    return results


if __name__ == "__main__":
    import sys

    for result in run(quick="--quick" in sys.argv):
        print(json.dumps(result.to_json(), default=str))
