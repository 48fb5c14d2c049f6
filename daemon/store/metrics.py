"""The figures behind the Prometheus endpoint, read from the database, so every
daemon sharing one PostgreSQL reports the same totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import peewee as pw

from makersync.daemon.store.db import Database
from makersync.daemon.store.models import FeeRow, ListingRow, OrderRow, PullRow, StoreRow


@dataclass
class Figures:
    pulls: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (channel, kind, state) -> n
    requests: dict[str, int] = field(default_factory=dict)  # channel -> requests
    throttled: dict[str, int] = field(default_factory=dict)  # channel -> 429s
    duration: dict[str, tuple[float, int]] = field(default_factory=dict)  # channel -> (seconds, pulls)
    records: dict[str, int] = field(default_factory=dict)  # orders, listings, fees
    stores: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, state) -> n
    lag_s: float = 0.0


def read_figures(db: Database, now: datetime) -> Figures:
    """Pull outcomes, requests and 429s by channel, pull durations, records by
    kind, stores by state, and how far the most overdue automatic pull lags."""
    f = Figures()
    with db.read_tx():
        by = (PullRow.select(StoreRow.channel, PullRow.kind, PullRow.state, pw.fn.COUNT(PullRow.id),
                             pw.fn.SUM(PullRow.requests_made), pw.fn.SUM(PullRow.throttled))
              .join(StoreRow).group_by(StoreRow.channel, PullRow.kind, PullRow.state))
        for channel, kind, state, n, requests, throttled in by.tuples():
            f.pulls[(channel, kind, state)] = int(n)
            f.requests[channel] = f.requests.get(channel, 0) + int(requests or 0)
            f.throttled[channel] = f.throttled.get(channel, 0) + int(throttled or 0)
        finished = (PullRow.select(StoreRow.channel, PullRow.started_at, PullRow.finished_at).join(StoreRow)
                    .where(PullRow.finished_at.is_null(False) & PullRow.started_at.is_null(False)))
        for channel, started, ended in finished.tuples():
            seconds, n = f.duration.get(channel, (0.0, 0))
            f.duration[channel] = (seconds + max(0.0, (ended - started).total_seconds()), n + 1)
        f.records = {"orders": OrderRow.select().count(), "listings": ListingRow.select().count(),
                     "fees": FeeRow.select().count()}
        for channel, state, n in (StoreRow.select(StoreRow.channel, StoreRow.state, pw.fn.COUNT(StoreRow.id))
                                  .group_by(StoreRow.channel, StoreRow.state).tuples()):
            f.stores[(channel, state)] = int(n)
        oldest = (StoreRow.select(StoreRow.next_automatic_pull_at)
                  .where(StoreRow.next_automatic_pull_at <= now)
                  .order_by(StoreRow.next_automatic_pull_at).first())
        if oldest is not None:
            f.lag_s = max(0.0, (now - oldest.next_automatic_pull_at).total_seconds())
    return f
