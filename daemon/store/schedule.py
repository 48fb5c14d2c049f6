"""Queries for the scheduler: which stores are due, and each store's next slot.

The slot lives on the store row (``next_automatic_pull_at``). Every change of
a slot is a conditional update (``WHERE next_automatic_pull_at = <old>``), so
when several daemons race for the same slot exactly one wins; on PostgreSQL
the row is first locked ``FOR UPDATE SKIP LOCKED`` so the losers move on
instead of queueing behind the winner. Callers own the transaction.

An idle poll reads only :func:`glance`: the change marker that
:func:`mark_changed` moves, and the earliest slot. The queries that run on
every poll (:func:`glance`, :func:`due`) or often (:func:`attention`,
:func:`unscheduled`) are plain SQL built from the models' own table and
column names: peewee spends about a millisecond composing each such query,
more than the database spends answering it, and the scheduler's cost per
pull is a target (QUALITY P7).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from makersync.daemon.store.db import Database
from makersync.daemon.store.models import (
    AccountRow,
    IntegrationRow,
    PullRow,
    ScheduleEpochRow,
    StoreRow,
)

HOURLY_HORIZON = timedelta(hours=1)
DAILY_HORIZON = timedelta(hours=26)
"""The farthest a correct next slot can lie ahead: an hour for hourly plans;
a day, plus an hour of daylight-saving change, plus jitter, for daily ones."""

_S, _A, _I, _P, _E = (m._meta.table_name for m in (StoreRow, AccountRow, IntegrationRow, PullRow, ScheduleEpochRow))
_SLOT = StoreRow.next_automatic_pull_at.column_name
_COLUMNS = ", ".join([
    f"s.{StoreRow.id.column_name}", f"s.{StoreRow.account.column_name}", f"s.{StoreRow.state.column_name}",
    f"s.{_SLOT}", f"s.{StoreRow.high_water_mark.column_name}", f"s.{StoreRow.reachable_since.column_name}",
    f"s.{StoreRow.reach_s.column_name}",
    f"a.{AccountRow.plan.column_name}", f"a.{AccountRow.time_zone.column_name}",
    f"a.{AccountRow.daily_pull_hour.column_name}", f"a.{AccountRow.start_date.column_name}",
    f"i.{IntegrationRow.automatic_updates.column_name}",
])
_FROM = (f"{_S} s JOIN {_A} a ON a.{AccountRow.id.column_name} = s.{StoreRow.account.column_name} "
         f"JOIN {_I} i ON i.{IntegrationRow.id.column_name} = s.{StoreRow.integration.column_name}")


@dataclass(frozen=True)
class ScheduleRow:
    """What the scheduler needs to know about one store."""

    store_id: int
    account_id: int
    state: str
    next_at: datetime | None
    high_water: datetime | None
    reachable_since: datetime | None
    reach: timedelta | None
    plan: str
    time_zone: str
    daily_hour: int
    start_date: date
    automatic_updates: bool
    has_queued_automatic: bool = False


def _instant(value: datetime) -> Any:
    return StoreRow.next_automatic_pull_at.db_value(value)


def _from_db(row: Sequence[Any]) -> ScheduleRow:
    sid, aid, state, slot, high, reachable, reach_s, plan, tz, hour, start, auto = row
    conv = StoreRow.next_automatic_pull_at.python_value
    return ScheduleRow(
        store_id=int(sid), account_id=int(aid), state=state, next_at=conv(slot), high_water=conv(high),
        reachable_since=conv(reachable), reach=None if reach_s is None else timedelta(seconds=int(reach_s)),
        plan=plan, time_zone=tz, daily_hour=int(hour),
        start_date=start if isinstance(start, date) else date.fromisoformat(str(start)),
        automatic_updates=bool(auto))


def _marks(db: Database, values: Collection[Any]) -> str:
    return ", ".join([db.pw.param] * len(values))


def _in(db: Database, column: str, values: Collection[Any]) -> str:
    """``column IN (?, ...)``; an empty list matches nothing (never NULL)."""
    return f"{column} IN ({_marks(db, values)})" if values else "1 = 0"


def _scheduled_sql(db: Database, plans: Collection[str]) -> tuple[str, list[Any]]:
    """Stores that should have a slot: active, automatic updates on, plan with a cadence."""
    return (f"s.{StoreRow.state.column_name} = 'active' AND i.{IntegrationRow.automatic_updates.column_name} "
            f"AND {_in(db, 'a.' + AccountRow.plan.column_name, plans)}", list(plans))


@dataclass(frozen=True)
class Glance:
    """What an idle poll reads: the change marker (:func:`mark_changed`) and
    the earliest slot of any store (None when no store has one)."""

    epoch: int
    earliest: datetime | None

    def has_due(self, now: datetime) -> bool:
        return self.earliest is not None and self.earliest <= now


def glance(db: Database) -> Glance:
    """The change marker and the earliest slot, in one statement that reads a
    row by its key and one end of the slot index: microseconds however many
    stores there are."""
    row = db.pw.execute_sql(
        f"SELECT (SELECT {ScheduleEpochRow.epoch.column_name} FROM {_E} WHERE {ScheduleEpochRow.id.column_name} = 1), "
        f"(SELECT MIN({_SLOT}) FROM {_S})").fetchone()
    return Glance(epoch=int(row[0] or 0), earliest=StoreRow.next_automatic_pull_at.python_value(row[1]))


def mark_changed(db: Database) -> None:
    """Make every daemon's scheduler look at the whole schedule at its next
    poll: this transaction changed which stores get automatic pulls or when
    (plan, time zone, daily hour, ``automatic_updates``, store state).

    Make it the transaction's last write: on PostgreSQL it holds the epoch
    row's lock until commit, and a lock taken last cannot close a cycle of
    waits with another transaction that marks."""
    ScheduleEpochRow.update(epoch=ScheduleEpochRow.epoch + 1).where(ScheduleEpochRow.id == 1).execute()


def attention(db: Database, now: datetime, hourly_plans: Collection[str], daily_plans: Collection[str],
              limit: int) -> list[ScheduleRow]:
    """Scheduled stores that need the scheduler now: their slot has come
    (due), is missing (automatic updates just switched on), or lies farther
    ahead than their cadence allows (a plan just changed to a faster one).
    Stores whose automatic pull is running are left out: their slot waits.
    For due rows, ``has_queued_automatic`` says whether one already waits."""
    p = db.pw.param
    plan_col = f"a.{AccountRow.plan.column_name}"
    needs = (f"s.{_SLOT} IS NULL OR s.{_SLOT} <= {p} "
             f"OR ({_in(db, plan_col, hourly_plans)} AND s.{_SLOT} > {p}) "
             f"OR ({_in(db, plan_col, daily_plans)} AND s.{_SLOT} > {p})")
    params = [_instant(now), *hourly_plans, _instant(now + HOURLY_HORIZON), *daily_plans,
              _instant(now + DAILY_HORIZON)]
    return _needing(db, now, [*hourly_plans, *daily_plans], needs, params, limit)


def due(db: Database, now: datetime, scheduled_plans: Collection[str], limit: int) -> list[ScheduleRow]:
    """The due rows of :func:`attention` alone: all a poll needs when nothing
    about the schedule changed since the last :func:`attention`. Reads only
    the due end of the slot index, not every scheduled store."""
    return _needing(db, now, scheduled_plans, f"s.{_SLOT} <= {db.pw.param}", [_instant(now)], limit)


def _needing(db: Database, now: datetime, scheduled_plans: Collection[str], needs: str, needs_params: list[Any],
             limit: int) -> list[ScheduleRow]:
    """Scheduled stores matching ``needs`` whose automatic pull is not
    running, earliest slot first; due rows say whether one is queued."""
    scheduled, params = _scheduled_sql(db, scheduled_plans)
    running = (f"SELECT {PullRow.store.column_name} FROM {_P} WHERE {PullRow.kind.column_name} = 'automatic' "
               f"AND {PullRow.state.column_name} = 'running'")
    sql = (f"SELECT {_COLUMNS} FROM {_FROM} WHERE {scheduled} AND ({needs}) "
           f"AND s.{StoreRow.id.column_name} NOT IN ({running}) "
           f"ORDER BY s.{_SLOT}, s.{StoreRow.id.column_name} LIMIT {int(limit)}")
    rows = [_from_db(r) for r in db.pw.execute_sql(sql, [*params, *needs_params]).fetchall()]
    due_ids = [r.store_id for r in rows if r.next_at is not None and r.next_at <= now]
    if not due_ids:
        return rows
    queued = {int(sid) for (sid,) in db.pw.execute_sql(
        f"SELECT {PullRow.store.column_name} FROM {_P} WHERE {PullRow.store.column_name} IN "
        f"({_marks(db, due_ids)}) AND {PullRow.kind.column_name} = 'automatic' "
        f"AND {PullRow.state.column_name} = 'queued'", due_ids).fetchall()}
    return [replace(r, has_queued_automatic=True) if r.store_id in queued else r for r in rows]


def unscheduled(db: Database, scheduled_plans: Collection[str], limit: int = 1000) -> list[int]:
    """Stores that have a slot but get no automatic pulls (store not active,
    automatic updates off, plan without a cadence)."""
    sql = (f"SELECT s.{StoreRow.id.column_name} FROM {_FROM} WHERE s.{_SLOT} IS NOT NULL AND NOT "
           f"({_scheduled_sql(db, scheduled_plans)[0]}) LIMIT {int(limit)}")
    return [int(sid) for (sid,) in db.pw.execute_sql(sql, list(scheduled_plans)).fetchall()]


def clear_slots(db: Database, store_ids: Collection[int]) -> int:
    """Remove the slot of these stores (they get no automatic pulls)."""
    if not store_ids:
        return 0
    return int(StoreRow.update(next_automatic_pull_at=None).where(StoreRow.id.in_(list(store_ids))).execute())


def scheduled_page(db: Database, scheduled_plans: Collection[str], after_id: int,
                   limit: int) -> list[ScheduleRow]:
    """Scheduled stores by id after ``after_id`` (a full pass over the schedule)."""
    scheduled, params = _scheduled_sql(db, scheduled_plans)
    sql = (f"SELECT {_COLUMNS} FROM {_FROM} WHERE {scheduled} AND s.{StoreRow.id.column_name} > {db.pw.param} "
           f"ORDER BY s.{StoreRow.id.column_name} LIMIT {int(limit)}")
    return [_from_db(r) for r in db.pw.execute_sql(sql, [*params, after_id]).fetchall()]


def pending_automatic(db: Database, store_id: int) -> str | None:
    """'running' or 'queued' when the store has such an automatic pull, else None."""
    p = db.pw.param
    states = {s for (s,) in db.pw.execute_sql(
        f"SELECT {PullRow.state.column_name} FROM {_P} WHERE {PullRow.store.column_name} = {p} "
        f"AND {PullRow.kind.column_name} = 'automatic' AND {PullRow.state.column_name} IN ('queued', 'running')",
        [store_id]).fetchall()}
    if "running" in states:
        return "running"
    return "queued" if states else None


def move_slot(db: Database, store_id: int, old: datetime | None, new: datetime | None) -> bool:
    """Set the store's slot to ``new`` if it is still ``old``. True when this
    caller moved it; False when another daemon did first (or holds the row)."""
    p = db.pw.param
    same = f"{_SLOT} IS NULL" if old is None else f"{_SLOT} = {p}"
    params: list[Any] = [store_id] if old is None else [store_id, _instant(old)]
    where = f"{StoreRow.id.column_name} = {p} AND {same}"
    if not db.is_sqlite:
        locked = db.pw.execute_sql(f"SELECT 1 FROM {_S} WHERE {where} FOR UPDATE SKIP LOCKED", params).fetchone()
        if locked is None:
            return False
    cursor = db.pw.execute_sql(f"UPDATE {_S} SET {_SLOT} = {p} WHERE {where}",
                               [None if new is None else _instant(new), *params])
    return bool(cursor.rowcount)


def clear_future_slots(db: Database, account_id: int, now: datetime) -> int:
    """Forget the account's slots still to come, so the scheduler sets them
    again from the account's new plan, zone or hour at its next tick. Slots
    already due are kept: a due pull is never skipped by a change."""
    return int(StoreRow.update(next_automatic_pull_at=None).where(
        (StoreRow.account == account_id) & (StoreRow.next_automatic_pull_at > now)).execute())
