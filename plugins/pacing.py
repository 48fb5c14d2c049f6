"""Rate limiting, keyed the way each channel counts.

A :class:`TokenBucket` holds ``capacity`` tokens and regains ``rate`` a
second; a request takes ``cost`` tokens (1 for most APIs, the query cost for
Shopify GraphQL). Buckets live in a :class:`LimiterRegistry` under keys a
channel chooses (per app key, per shop, per operation), so every store of a
deployment that shares an allowance shares the bucket.

A channel's :class:`Pacer` names the buckets an operation draws from and
learns from the channel's own signals (remaining-quota headers, GraphQL
``throttleStatus``), so the declared defaults are only a starting point.
"""

from __future__ import annotations

import email.utils
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from .clock import SYSTEM_CLOCK, Clock

MAX_SINGLE_WAIT_S = 3600.0
MIN_SINGLE_WAIT_S = 0.001
"""A wait is never shorter: at a very high rate (a simulator with no limit)
the wait for a fraction of a token can be below what a clock's float can
add to it, and a fake clock would never move."""


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """A bucket an operation draws from, with its declared defaults."""

    key: tuple[str, ...]
    rate: float
    capacity: float


class TokenBucket:
    """A token bucket on an injected clock.

    A bucket from a :class:`LimiterRegistry` shares the registry's lock, so a
    pacer's :meth:`sync` or :meth:`block_for` (called outside the registry)
    never races another thread's :meth:`LimiterRegistry.acquire`."""

    def __init__(
        self, rate: float, capacity: float, clock: Clock, lock: threading.RLock | None = None
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self._clock = clock
        self._stamp = clock.monotonic()
        self._lock = lock or threading.RLock()
        self.blocked_until = 0.0

    def _refill(self) -> None:
        now = self._clock.monotonic()
        if now > self._stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def wait_time(self, cost: float) -> float:
        """Seconds until ``cost`` tokens are available (0 when they are now)."""
        with self._lock:
            self._refill()
            now = self._clock.monotonic()
            blocked = max(0.0, self.blocked_until - now)
            need = min(cost, self.capacity) - self.tokens
            if need <= 1e-9:
                return blocked
            if self.rate <= 0:
                return max(blocked, MAX_SINGLE_WAIT_S)
            return max(blocked, need / self.rate)

    def take(self, cost: float) -> None:
        with self._lock:
            self._refill()
            self.tokens -= min(cost, self.capacity)

    def sync(
        self,
        *,
        available: float | None = None,
        capacity: float | None = None,
        rate: float | None = None,
        only_lower: bool = False,
    ) -> None:
        """Adopt what the channel says of this allowance. With ``only_lower``
        an ``available`` above the bucket's own count is ignored: a count read
        from a response can be stale by the requests sent since, while a lower
        one means someone else (another client of the same key) spent it."""
        with self._lock:
            self._refill()
            if capacity is not None and capacity > 0:
                self.capacity = capacity
                self.tokens = min(self.tokens, capacity)  # a smaller bucket holds less
            if rate is not None and rate > 0:
                self.rate = rate
            if available is not None and not (only_lower and available >= self.tokens):
                self.tokens = min(self.capacity, max(available, 0.0))

    def block_for(self, seconds: float) -> None:
        """Allow nothing for ``seconds`` (after a 429 with ``Retry-After``)."""
        with self._lock:
            self.blocked_until = max(self.blocked_until, self._clock.monotonic() + seconds)
            self.tokens = min(self.tokens, 0.0)


class LimiterRegistry:
    """All buckets of one daemon process, by key. Thread-safe."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        # Reentrant and shared with every bucket: see TokenBucket.
        self._lock = threading.RLock()

    def bucket(self, spec: BucketSpec) -> TokenBucket:
        with self._lock:
            found = self._buckets.get(spec.key)
            if found is None:
                found = self._buckets[spec.key] = TokenBucket(
                    spec.rate, spec.capacity, self.clock, lock=self._lock
                )
            return found

    def acquire(self, specs: Sequence[BucketSpec], cost: float = 1.0) -> float:
        """Block until every bucket in ``specs`` can pay ``cost``; take it from
        all of them at once. Returns the seconds waited."""
        waited = 0.0
        buckets = [self.bucket(s) for s in specs]
        while True:
            with self._lock:
                wait = max((b.wait_time(cost) for b in buckets), default=0.0)
                if wait <= 0:
                    for b in buckets:
                        b.take(cost)
                    return waited
            wait = min(max(wait, MIN_SINGLE_WAIT_S), MAX_SINGLE_WAIT_S)
            self.clock.sleep(wait)
            waited += wait

    def snapshot(self) -> dict[str, dict[str, float]]:
        """Tokens left per bucket, for status views."""
        with self._lock:
            out = {}
            for key, b in self._buckets.items():
                b._refill()
                out["/".join(key)] = {
                    "available": round(b.tokens, 3),
                    "capacity": b.capacity,
                    "rate": b.rate,
                }
            return out


def parse_retry_after(response: httpx.Response, clock: Clock = SYSTEM_CLOCK) -> float | None:
    """Seconds from a ``Retry-After`` header: a number (fractional too) or an HTTP date.

    None when the header is missing or unreadable (``inf`` and ``nan`` too);
    a wait is never negative nor longer than ``MAX_SINGLE_WAIT_S``."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return min(max(0.0, seconds), MAX_SINGLE_WAIT_S) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - clock.now()).total_seconds()), MAX_SINGLE_WAIT_S)


class Pacer:
    """How one channel paces its requests. The base class draws from no
    bucket and reads only ``Retry-After``; channels override :meth:`buckets`,
    :meth:`observe` and, where throttling hides in a 200, :meth:`is_throttled`."""

    def __init__(self, registry: LimiterRegistry) -> None:
        self.registry = registry
        self.clock = registry.clock

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        """The buckets ``operation`` draws from."""
        return ()

    def acquire(self, operation: str, cost: float = 1.0) -> float:
        """Wait for the allowance of one request; returns seconds waited."""
        return self.registry.acquire(self.buckets(operation), cost)

    def observe(self, operation: str, response: httpx.Response) -> None:
        """Learn from a response's rate signals (headers, cost extensions)."""

    def is_throttled(self, response: httpx.Response) -> bool:
        """Whether ``response`` means "slow down" (a 429 by default)."""
        return response.status_code == 429

    def throttle_wait(self, operation: str, response: httpx.Response) -> float | None:
        """How long to wait after a throttled response (None: let the client back off)."""
        wait = parse_retry_after(response, self.clock)
        if wait is not None:
            for spec in self.buckets(operation):
                self.registry.bucket(spec).block_for(wait)
        return wait


def now_utc(clock: Clock) -> datetime:
    return clock.now().astimezone(UTC)
