"""Walking Finances v2024-06-19 ``listTransactions`` over a time range.

A query may span at most 180 days (a wider one silently returns nothing), and
``postedBefore`` must lie 2 minutes in the past, so a range is walked as
consecutive chunks of at most 180 days, each paged with ``nextToken``. The
position ``(chunk, token)`` is JSON, so a stream resumes after any page.

Both the orders stream (refunds) and the fees stream read the same
transactions; a pull caches the mapped pages of a walk so that the second
stream costs no request (bounded, so a large backfill does not hold them all).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from makersync.plugins import BadRecord, SetAside

from .mapping_finances import Transaction, describe_unreadable, map_transaction

MAX_SPAN = timedelta(days=180)
CACHE_MAX_TRANSACTIONS = 50_000
CACHE_TTL = timedelta(hours=6)


def iso(when: datetime) -> str:
    """ISO 8601 in UTC to the second, as Amazon's examples write it."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    lo = start
    while lo < end:
        hi = min(lo + MAX_SPAN, end)
        out.append((lo, hi))
        lo = hi
    return out


@dataclass(frozen=True)
class Unreadable:
    """A transaction that could not be read, with what it would have named."""

    txn_id: str
    txn_type: str
    order_id: str
    fee_ids: tuple[str, ...]
    reason: str
    raw: str

    @classmethod
    def of(cls, raw: Any, reason: str) -> Unreadable:
        txn_id, txn_type, order_id, fee_ids = describe_unreadable(raw)
        try:
            text = json.dumps(raw, default=str, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(raw)
        return cls(txn_id, txn_type, order_id, tuple(fee_ids), reason, text[: SetAside.MAX_RAW_CHARS])

    def fee_entries(self) -> list[SetAside]:
        """Set-aside entries for the fees stream: one per fee it carried (R15)."""
        if self.fee_ids:
            return [SetAside("fee", fee_id, self.reason, self.raw) for fee_id in self.fee_ids]
        return [SetAside("transaction", self.txn_id, self.reason, self.raw)]

    def order_entry(self) -> SetAside | None:
        """For the orders stream: an unreadable refund leaves its order incomplete."""
        if self.txn_type != "Refund" or not self.order_id:
            return None
        return SetAside("order", self.order_id, f"refund transaction {self.txn_id or '?'} unreadable: "
                        f"{self.reason}", self.raw)


@dataclass
class WalkPage:
    """One listTransactions page, mapped; ``position`` resumes after it."""

    transactions: list[Transaction]
    unreadable: list[Unreadable]
    position: dict[str, Any] | None  # None: the walk is complete


@dataclass
class CachedWalk:
    start: datetime
    end: datetime
    made_at: datetime
    pages: list[WalkPage] = field(default_factory=list)
    complete: bool = False
    size: int = 0


class FinanceWalker:
    """Walks [start, end) for one channel instance (one pull), caching what it read."""

    def __init__(self, fetch: Callable[[dict[str, str]], Any], now: Callable[[], datetime]) -> None:
        self._fetch = fetch
        self._now = now
        self._cache: dict[str, CachedWalk] = {}

    def cached(self, start: datetime) -> CachedWalk | None:
        walk = self._cache.get(iso(start))
        if walk and walk.complete and self._now() - walk.made_at <= CACHE_TTL:
            return walk
        return None

    def walk(self, start: datetime, end: datetime, position: dict[str, Any] | None = None) -> Iterator[WalkPage]:
        """Yield every page of [start, end) from ``position`` (chunk, token) on."""
        spans = chunks(start, end)
        cache = None
        if position is None:
            cache = self._cache[iso(start)] = CachedWalk(start, end, self._now())
        k = int(position["chunk"]) if position else 0
        token = position.get("token") if position else None
        while k < len(spans):
            lo, hi = spans[k]
            params = {"postedAfter": iso(lo), "postedBefore": iso(hi)}
            if token:
                params["nextToken"] = token
            body = self._fetch(params)
            payload = body.get("payload") if isinstance(body, dict) else None
            if not isinstance(payload, dict):
                payload = {}
            page = WalkPage([], [], None)
            raw_list = payload.get("transactions") or []
            for raw in raw_list if isinstance(raw_list, list) else []:
                try:
                    page.transactions.append(map_transaction(raw))
                except BadRecord as exc:
                    page.unreadable.append(Unreadable.of(raw, str(exc)))
            token = payload.get("nextToken") or None
            if not token:
                k += 1
            if k < len(spans):
                page.position = {"chunk": k, "token": token}
            if cache is not None:
                cache.size += len(page.transactions)
                if cache.size > CACHE_MAX_TRANSACTIONS:
                    self._cache.pop(iso(start), None)
                    cache = None
                else:
                    cache.pages.append(page)
            yield page
        if cache is not None:
            cache.complete = True
