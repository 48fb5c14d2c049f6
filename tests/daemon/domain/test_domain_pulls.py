"""Manual pulls (R4) against the floor (R2), and the pull list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from makersync.daemon.domain import pulls
from makersync.daemon.domain.errors import FailedPrecondition, InvalidArgument, NotFound


def test_manual_pull_queued_with_local_day_window(db, books, clock, plans):
    """R4: a manual pull names first and last day in the account's zone and is queued."""
    account = books.account(time_zone="Europe/Berlin")
    store = books.store(account)
    view = pulls.request_manual_pull(db, clock, plans, store.id, "2026-05-01", "2026-05-30", True)
    assert (view.kind, view.state, view.dry_run) == ("manual", "queued", True)
    assert view.window_start == datetime(2026, 4, 30, 22, tzinfo=UTC)
    assert view.window_end == datetime(2026, 5, 30, 22, tzinfo=UTC)
    assert (view.start_date, view.end_date) == ("2026-05-01", "2026-05-30")


def test_manual_pull_refused_before_floor_and_nothing_written(db, books, clock, plans, rows):
    """R2/R4: a range before the floor is refused naming the floor; no pull is queued."""
    account = books.account(plan="trial", start_date="2020-01-01")
    store = books.store(account)
    before = rows()
    with pytest.raises(FailedPrecondition) as err:
        pulls.request_manual_pull(db, clock, plans, store.id, "2026-04-20", "2026-05-05")
    assert "floor 2026-05-02 (plan lookback of 30 days)" in str(err.value)
    assert rows() == before


def test_manual_pull_refused_when_range_too_long(db, books, clock, plans):
    """R4: at most 30 days."""
    account = books.account()
    store = books.store(account)
    with pytest.raises(InvalidArgument) as err:
        pulls.request_manual_pull(db, clock, plans, store.id, "2026-04-01", "2026-05-01")
    assert err.value.field == "end_date" and "31 days" in str(err.value)


def test_manual_pull_ends_now_when_last_day_today(db, books, clock, plans):
    """R4: a range ending today reads up to now, never pretending to cover the future."""
    account = books.account(time_zone="UTC")
    store = books.store(account)
    view = pulls.request_manual_pull(db, clock, plans, store.id, "2026-06-01", "2026-06-01")
    assert view.window_end == clock.now()


def test_manual_pull_queued_when_another_pull_waits(db, books, clock, plans):
    """R4: a pull asked for while another is queued for the store waits its turn (not refused)."""
    account = books.account()
    store = books.store(account)
    pulls.request_manual_pull(db, clock, plans, store.id, "2026-05-01", "2026-05-02")
    clock.advance(1)
    pulls.request_manual_pull(db, clock, plans, store.id, "2026-05-03", "2026-05-04")
    listed = pulls.list_pulls(db, store.id).items
    assert [p.kind for p in listed] == ["manual", "manual", "initial"]  # newest first
    assert [p.start_date for p in listed[:2]] == ["2026-05-03", "2026-05-01"]


def test_list_pulls_pages_newest_first(db, books, clock, plans):
    """ListPulls pages newest first with a token."""
    account = books.account()
    store = books.store(account)
    for day in range(1, 5):
        clock.advance(1)
        pulls.request_manual_pull(db, clock, plans, store.id, f"2026-05-0{day}", f"2026-05-0{day}")
    first = pulls.list_pulls(db, store.id, page_size=3)
    rest = pulls.list_pulls(db, store.id, 3, first.next_page_token)
    assert len(first.items) == 3 and len(rest.items) == 2 and rest.next_page_token == ""
    assert [p.start_date for p in first.items] == ["2026-05-04", "2026-05-03", "2026-05-02"]


def test_cancel_pull_cancels_queued(db, books, clock, plans):
    """A queued pull is cancelled at once."""
    account = books.account()
    store = books.store(account)
    view = pulls.cancel_pull(db, clock, store.initial_pull_id)
    assert view.state == "cancelled" and view.finished_at == clock.now()


def test_get_pull_not_found_when_unknown(db):
    """Unknown pull ids are NotFound naming pull_id."""
    with pytest.raises(NotFound) as err:
        pulls.get_pull(db, "12345")
    assert err.value.field == "pull_id"


def test_enqueue_pull_refused_when_window_empty(db, books, clock):
    """The scheduler's windows must have an end after their start."""
    account = books.account()
    store = books.store(account)
    with pytest.raises(InvalidArgument):
        pulls.enqueue_pull(db, clock, store.id, "automatic", clock.now(), clock.now())
    view = pulls.enqueue_pull(db, clock, store.id, "automatic", datetime(2026, 5, 1, tzinfo=UTC),
                              clock.now(), modified_since=datetime(2026, 5, 31, tzinfo=UTC))
    assert view.modified_since == datetime(2026, 5, 31, tzinfo=UTC)
