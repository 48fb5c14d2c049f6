"""Opening the database, one daemon per data directory, and the column types."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from makersync.daemon.store.db import (
    DatabaseConfigError,
    DataDirLocked,
    acquire_data_dir_lock,
    open_database,
    release_data_dir_lock,
)
from makersync.daemon.store.models import AccountRow, FeeRow, OrderRow

pytestmark = pytest.mark.timeout(60)


def test_sqlite_default_file_uses_wal_and_foreign_keys(sqlite_db, tmp_path):
    """The embedded default is <data_dir>/makersync.db in WAL mode with foreign keys on."""
    assert sqlite_db.backend == "sqlite"
    assert (tmp_path / "makersync.db").exists()
    pragma = lambda name: sqlite_db.pw.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 10000
    assert pragma("synchronous") == 1  # NORMAL


def test_open_database_reports_postgresql_backend(pg_schema_url, tmp_path):
    """A postgresql:// URL opens PostgreSQL and says so."""
    db = open_database(pg_schema_url, tmp_path)
    try:
        assert db.backend == "postgresql"
        assert "t_" not in db.description or "@" not in db.description  # no credentials shown
    finally:
        db.close()


def test_open_database_refused_when_scheme_unknown(tmp_path):
    """A URL of another database names the field and what is supported."""
    with pytest.raises(DatabaseConfigError, match="database_url: unsupported scheme 'mysql'"):
        open_database("mysql://root:hunter2@db/x", tmp_path)


def test_second_daemon_refused_when_data_dir_locked(tmp_path):
    """A second daemon on the same SQLite data directory refuses, naming the holder's pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from makersync.daemon.store.db import acquire_data_dir_lock
            acquire_data_dir_lock({str(tmp_path)!r})
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataDirLocked) as err:
            acquire_data_dir_lock(tmp_path)
        assert f"pid {holder.pid}" in str(err.value) and str(tmp_path) in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    acquire_data_dir_lock(tmp_path)  # the lock died with its holder
    release_data_dir_lock(tmp_path)


def test_data_dir_lock_refused_twice_in_one_process(tmp_path):
    """Even within one process the lock is exclusive, and it is free again after release."""
    acquire_data_dir_lock(tmp_path)
    try:
        with pytest.raises(DataDirLocked, match=f"pid {os.getpid()}"):
            acquire_data_dir_lock(tmp_path)
    finally:
        release_data_dir_lock(tmp_path)
    acquire_data_dir_lock(tmp_path)
    release_data_dir_lock(tmp_path)


def _account(now: datetime) -> int:
    return AccountRow.create(name="M", plan="studio", start_date="2026-01-01",
                             time_zone="UTC", created_at=now).id


def test_money_round_trips_exactly(db, books, clock):
    """Money is exact: Decimal('0.10') + ... comes back exactly, never as a float."""
    account = books.account()
    store = books.store(account)
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("0.30"), Decimal("12345678901234.56789")]
    ids = [books.fee(store, amount=str(a)) for a in amounts]
    got = [FeeRow.get_by_id(i).amount for i in ids]
    assert got == amounts and all(isinstance(g, Decimal) for g in got)
    assert got[0] + got[1] == got[2]
    assert str(got[3]) == "12345678901234.56789"


def test_money_refused_when_float(db, books):
    """A float never reaches the books."""
    account = books.account()
    store = books.store(account)
    fee_id = books.fee(store)
    with pytest.raises(TypeError, match="never float"):
        FeeRow.update(amount=0.1).where(FeeRow.id == fee_id).execute()
    assert FeeRow.get_by_id(fee_id).amount == Decimal("0.20")


def test_instants_stored_utc_and_returned_aware(db, books):
    """Instants in any zone come back as the same instant, aware, in UTC."""
    account = books.account()
    store = books.store(account)
    placed = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-7)))
    order_id = books.order(store, placed_at=placed)
    got = OrderRow.get_by_id(order_id).placed_at
    assert got == placed and got.tzinfo == UTC and got.hour == 8


def test_instants_refused_when_naive(db):
    """A naive datetime is refused, not guessed."""
    with pytest.raises(ValueError, match="naive"):
        _account(datetime(2026, 1, 1))


def test_instant_ranges_compare_in_time_order(db, books):
    """Range queries on instants follow time order on both databases."""
    account = books.account()
    store = books.store(account)
    base = datetime(2026, 5, 1, tzinfo=UTC)
    for hours in (1, 5, 30):
        books.order(store, placed_at=base + timedelta(hours=hours))
    cut = base + timedelta(hours=4, minutes=59, seconds=59, microseconds=999999)
    later = OrderRow.select().where(OrderRow.placed_at > cut).count()
    assert later == 2


def test_database_file_path_from_sqlite_url(tmp_path: Path):
    """sqlite:///path opens that file."""
    target = tmp_path / "elsewhere" / "books.db"
    db = open_database(f"sqlite:///{target}", tmp_path)
    try:
        db.pw.connect(reuse_if_open=True)
        assert target.exists()
    finally:
        db.close()
