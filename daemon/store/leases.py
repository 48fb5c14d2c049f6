"""Leases: which daemon may run a store's pull right now.

One lease row per store. Claiming a queued pull takes the store's lease with
a new fencing token; every page a pull writes first checks that its lease
(owner and token) still stands, inside the page's own transaction, so a
daemon that was paused past its lease and lost it can never write again
(QUALITY S1). On PostgreSQL candidates are locked ``FOR UPDATE SKIP LOCKED``
so several daemons claim different stores without waiting on each other; on
SQLite the single writer lock (``BEGIN IMMEDIATE``) serialises claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw

from makersync.daemon.store.db import Database
from makersync.daemon.store.models import LeaseRow, PullRow

CLAIM_BATCH = 20


class LeaseLost(Exception):
    """This daemon's lease on the store expired or was taken over."""


@dataclass(frozen=True)
class Claim:
    pull_id: int
    store_id: int
    token: int


def _candidates(db: Database, now: datetime) -> list[tuple[int, int]]:
    """Queued pulls, manual first then oldest, one per store, whose store is free."""
    busy = LeaseRow.select(LeaseRow.store).where(LeaseRow.expires_at > now)
    q = (PullRow.select(PullRow.id, PullRow.store)
         .where((PullRow.state == "queued") & (PullRow.store.not_in(busy)))
         .order_by(PullRow.priority.desc(), PullRow.created_at, PullRow.id)
         .limit(CLAIM_BATCH * 5))
    seen: set[int] = set()
    out = []
    for pid, sid in q.tuples():
        if sid not in seen:
            seen.add(sid)
            out.append((pid, sid))
    return out[:CLAIM_BATCH]


def claim_next(db: Database, owner: str, now: datetime, lease_s: float) -> Claim | None:
    """Claim the next queued pull whose store nobody holds; None when there is none."""
    expires = now + timedelta(seconds=lease_s)
    with db.write_tx():
        for pull_id, store_id in _candidates(db, now):
            lease = _lock_lease(db, store_id, now)
            if lease is None:
                continue
            token = lease.fencing_token + 1
            # The pull first: if it was cancelled meanwhile, the lease stays free.
            taken = PullRow.update(state="running", lease_owner=owner, fencing_token=token,
                                   lease_expires_at=expires, heartbeat_at=now, waiting_reason="",
                                   started_at=pw.fn.COALESCE(PullRow.started_at, now)).where(
                (PullRow.id == pull_id) & (PullRow.state == "queued")).execute()
            if not taken:
                continue
            LeaseRow.update(owner=owner, fencing_token=token, expires_at=expires, heartbeat_at=now).where(
                LeaseRow.id == lease.id).execute()
            return Claim(pull_id, store_id, token)
    return None


def _lock_lease(db: Database, store_id: int, now: datetime) -> LeaseRow | None:
    """The store's lease row, locked, if it is free (created on first use)."""
    LeaseRow.insert(store=store_id, owner="", fencing_token=0, expires_at=now - timedelta(seconds=1),
                    heartbeat_at=now).on_conflict_ignore().execute()
    q = LeaseRow.select().where((LeaseRow.store == store_id) & (LeaseRow.expires_at <= now))
    if not db.is_sqlite:
        q = q.for_update("FOR UPDATE SKIP LOCKED")
    return q.first()


def check(store_id: int, owner: str, token: int, now: datetime, lease_s: float) -> None:
    """Within a write transaction: renew the lease, or raise LeaseLost (fencing)."""
    renewed = LeaseRow.update(expires_at=now + timedelta(seconds=lease_s), heartbeat_at=now).where(
        (LeaseRow.store == store_id) & (LeaseRow.owner == owner) & (LeaseRow.fencing_token == token)
        & (LeaseRow.expires_at > now)).execute()
    if renewed != 1:
        raise LeaseLost(f"lease on store {store_id} lost (token {token})")


def renew(db: Database, store_id: int, owner: str, token: int, now: datetime, lease_s: float) -> bool:
    """Heartbeat: extend a held lease. False when it was lost."""
    with db.write_tx():
        try:
            check(store_id, owner, token, now, lease_s)
        except LeaseLost:
            return False
    return True


def release(db: Database, store_id: int, owner: str, token: int, now: datetime) -> None:
    """Give the lease back at once (graceful shutdown, pull finished)."""
    with db.write_tx():
        release_in_tx(store_id, owner, token, now)


def release_in_tx(store_id: int, owner: str, token: int, now: datetime) -> None:
    """``release`` inside the caller's write transaction."""
    LeaseRow.update(owner="", expires_at=now - timedelta(seconds=1)).where(
        (LeaseRow.store == store_id) & (LeaseRow.owner == owner) & (LeaseRow.fencing_token == token)).execute()


def requeue_orphans(db: Database, now: datetime, limit: int = 500) -> int:
    """Pulls left 'running' under an expired lease (their daemon died or was
    paused past its lease) go back to the queue, to resume from their
    checkpoint on any daemon. Returns how many.

    Each store's lease row is locked first, as a claim locks it, so a pull
    claimed a moment ago (its lease renewed after this query's snapshot) is
    never put back."""
    live = LeaseRow.select(LeaseRow.store).where(LeaseRow.expires_at > now)
    stores = [sid for (sid,) in PullRow.select(PullRow.store).where(
        (PullRow.state == "running") & (PullRow.store.not_in(live))).distinct().limit(limit).tuples()]
    requeued = 0
    for store_id in stores:
        with db.write_tx():
            q = LeaseRow.select(LeaseRow.id).where(LeaseRow.store == store_id)
            if not db.is_sqlite:
                q = q.for_update("FOR UPDATE SKIP LOCKED")
            lease = q.first()
            if lease is not None and not LeaseRow.select().where(
                    (LeaseRow.id == lease.id) & (LeaseRow.expires_at <= now)).exists():
                continue  # claimed again since the snapshot
            if lease is None and LeaseRow.select().where(LeaseRow.store == store_id).exists():
                continue  # another daemon holds the row right now
            requeued += (PullRow.update(state="queued", lease_owner=None, waiting_reason="")
                         .where((PullRow.store == store_id) & (PullRow.state == "running")).execute())
    return requeued


def pull_holder(pull_id: int) -> tuple[str, str | None, int] | None:
    """A pull's (state, lease owner, fencing token); None when it is gone."""
    row = (PullRow.select(PullRow.state, PullRow.lease_owner, PullRow.fencing_token)
           .where(PullRow.id == pull_id).tuples().first())
    return None if row is None else (str(row[0]), row[1], int(row[2]))
