"""Queries for pulls (read side and queueing). Callers own the transaction;
the engine's claim/checkpoint queries live with the engine's store module."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from makersync.daemon.domain.views import Page, PullView
from makersync.daemon.store.convert import SET_ASIDE_SHOWN, pull_view
from makersync.daemon.store.db import Database
from makersync.daemon.store.models import PullRow, SetAsideRow, StoreRow
from makersync.daemon.store.pages import keyset_page

FINISHED_STATES = ("succeeded", "failed", "cancelled")


def _view(row: PullRow, channel: str, with_set_aside: bool = True) -> PullView:
    set_aside: list[SetAsideRow] = []
    if with_set_aside and row.set_aside_count:
        set_aside = list(
            SetAsideRow.select()
            .where(SetAsideRow.pull == row.id)
            .order_by(SetAsideRow.id)
            .limit(SET_ASIDE_SHOWN)
        )
    return pull_view(row, channel, set_aside)


def fetch_pull(db: Database, pull_id: int) -> PullView | None:
    row = (
        PullRow.select(PullRow, StoreRow.id, StoreRow.channel)
        .join(StoreRow)
        .where(PullRow.id == pull_id)
        .first()
    )
    return None if row is None else _view(row, row.store.channel)


def list_pulls(db: Database, store_id: int, channel: str, size: int, token: str) -> Page[PullView]:
    query = PullRow.select().where(PullRow.store == store_id)
    rows, next_token = keyset_page(
        query, [PullRow.created_at, PullRow.id], size, token, ("pulls", store_id), descending=True
    )
    return Page([_view(r, channel) for r in rows], next_token)


def insert_pull(
    db: Database,
    now: datetime,
    store_id: int,
    account_id: int,
    kind: str,
    window_start: datetime,
    window_end: datetime,
    fields: Mapping[str, Any] | None = None,
) -> int:
    """A queued pull; ``fields`` sets any other PullRow column (dry_run, dates, priority...)."""
    row = PullRow.create(
        store=store_id,
        account_id=account_id,
        kind=kind,
        state="queued",
        window_start=window_start,
        window_end=window_end,
        as_of=now,
        created_at=now,
        **dict(fields or {}),
    )
    return int(row.id)


def cancel_pull(db: Database, now: datetime, pull_id: int) -> bool:
    """Cancel a queued pull, or flag a running one to stop at its next page
    boundary. False if the pull had already finished."""
    row = PullRow.get_or_none(PullRow.id == pull_id)
    if row is None or row.state in FINISHED_STATES:
        return False
    if row.state == "queued":
        PullRow.update(state="cancelled", finished_at=now, cancel_requested=True).where(
            (PullRow.id == pull_id) & (PullRow.state == "queued")
        ).execute()
    else:
        PullRow.update(cancel_requested=True).where(PullRow.id == pull_id).execute()
    return True
