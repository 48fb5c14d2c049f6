"""Numbered forward migrations and the schema version."""

from __future__ import annotations

import pytest

from makersync.daemon.store import migrations
from makersync.daemon.store.db import open_database


def test_migrate_creates_schema_once(tmp_path):
    """A new database gets every migration once; a second start applies none."""
    db = open_database(None, tmp_path)
    assert migrations.migrate(db) == list(range(1, migrations.latest_version() + 1))
    assert migrations.migrate(db) == []
    assert migrations.current_version(db) == migrations.latest_version()
    assert {"accounts", "stores", "orders", "fees", "schema_version"} <= set(db.pw.get_tables())
    db.close()


def test_migrate_applies_only_pending(tmp_path):
    """A later migration runs on an existing database, after the earlier ones."""
    db = open_database(None, tmp_path)
    migrations.migrate(db)
    ran = []
    extra = [*migrations.MIGRATIONS, lambda d: ran.append(d.backend)]
    assert migrations.migrate(db, extra) == [migrations.latest_version() + 1]
    assert ran == ["sqlite"]
    db.close()


def test_migrate_refused_when_schema_newer(db):
    """A database written by a newer daemon is refused with a clear error."""
    newer = migrations.latest_version() + 3
    with db.write_tx():
        migrations.SchemaVersionRow.create(version=newer, applied_at="2030-01-01")
    with pytest.raises(migrations.SchemaTooNew) as err:
        migrations.migrate(db)
    assert f"schema version {newer}" in str(err.value) and "upgrade makersyncd" in str(err.value)


def test_migrate_once_when_daemons_start_together(db, tmp_path):
    """Several daemons migrating one database at once apply each migration once."""
    import threading

    from makersync.daemon.store.migrations import SchemaVersionRow

    # Start from an empty schema_version so the race is real.
    from makersync.daemon.store.models import ALL_MODELS

    with db.write_tx():
        db.pw.drop_tables([*ALL_MODELS, SchemaVersionRow])
    assert set(db.pw.get_tables()) <= {"sqlite_sequence"}  # SQLite's AUTOINCREMENT counters, emptied
    errors: list[BaseException] = []

    def start() -> None:
        try:
            migrations.migrate(db)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = [r.version for r in SchemaVersionRow.select().order_by(SchemaVersionRow.version)]
    assert versions == list(range(1, migrations.latest_version() + 1))


def test_migration_3_gives_a_version_2_database_the_schedule_epoch(tmp_path):
    """A database from before the schedule epoch gets its table and row, so
    the schedulers' glance and every marked change work on it."""
    from makersync.daemon.store import schedule

    db = open_database(None, tmp_path)
    assert migrations.migrate(db, migrations.MIGRATIONS[:2]) == [1, 2]
    db.pw.execute_sql("DROP TABLE schedule_epoch")  # version 2 had none

    assert migrations.migrate(db) == list(range(3, migrations.latest_version() + 1))
    with db.write_tx():
        schedule.mark_changed(db)
    assert schedule.glance(db).epoch == 1
    db.close()


def _max_ids(db, tables) -> dict[str, int]:
    return {t: db.pw.execute_sql(f'SELECT COALESCE(MAX(id), 0) FROM "{t}"').fetchone()[0] for t in tables}


def _indexes_and_triggers(db) -> dict[str, str]:
    cursor = db.pw.execute_sql("SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')")
    return dict(cursor.fetchall())


def test_migration_5_upgrades_a_version_4_sqlite_database_so_ids_are_never_reused(tmp_path, clock, plans, box):
    """R3 disconnect / API ids: after the upgrade the rows, indexes and order-count
    triggers are all still there, foreign keys are intact, and once the newest
    store is disconnected the next store, pull and order still get new ids,
    never one a caller may have kept."""
    from makersync.daemon.domain import catalog, integrations
    from tests.daemon.conftest import Books, snapshot

    db = open_database(None, tmp_path)
    migrations.migrate(db, migrations.MIGRATIONS[:4])
    books = Books(db, clock, plans, box)
    account = books.account()
    kept, newest = books.store(account), books.store(account)
    for store in (kept, newest, newest):
        books.order(store)
    before = _max_ids(db, ("stores", "pulls", "orders", "order_lines"))
    rows, schema = snapshot(), _indexes_and_triggers(db)

    assert migrations.migrate(db, migrations.MIGRATIONS[:5]) == [5]
    assert snapshot() == rows and _indexes_and_triggers(db) == schema
    assert db.pw.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    assert db.pw.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1

    gone = integrations.disconnect(db, newest.id)
    assert (gone.orders_removed, gone.pulls_removed) == (2, 1)  # cascades reach the rebuilt tables
    other = books.account()
    again = books.store(other)
    books.order(again)
    after = _max_ids(db, before)
    assert int(again.id) == after["stores"] > before["stores"]
    assert int(again.initial_pull_id) == after["pulls"] > before["pulls"]
    assert after["orders"] > before["orders"] and after["order_lines"] > before["order_lines"]
    assert [catalog.list_orders(db, a.id).total_size for a in (account, other)] == [1, 1]
    db.close()


def test_every_auto_id_table_is_autoincrement_on_a_new_sqlite_database(sqlite_db):
    """API ids: a new database never reuses ids either, in every table whose ids
    the database hands out, including tables later migrations add."""
    import peewee as pw

    from makersync.daemon.store.models import ALL_MODELS

    ddl = dict(sqlite_db.pw.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    auto = [m._meta.table_name for m in ALL_MODELS if isinstance(m._meta.primary_key, pw.AutoField)]
    assert {"stores", "pulls", "orders"} <= set(auto)
    assert [t for t in auto if "PRIMARY KEY AUTOINCREMENT" not in ddl[t]] == []


def test_migration_5_refuses_to_rebuild_with_foreign_keys_on(tmp_path, clock, plans, box):
    """Run with foreign keys on, dropping ``stores`` would cascade-delete every
    order; the rebuild refuses instead and nothing is lost."""
    from tests.daemon.conftest import Books

    db = open_database(None, tmp_path)
    migrations.migrate(db, migrations.MIGRATIONS[:4])
    books = Books(db, clock, plans, box)
    books.order(books.store(books.account()))
    with pytest.raises(migrations.MigrationFailed, match="foreign keys on"), db.write_tx():
        migrations.MIGRATIONS[4](db)
    assert db.pw.execute_sql("SELECT COUNT(*) FROM orders").fetchone()[0] == 1
    db.close()


def test_migration_6_makes_the_built_in_channels_reach_rolling(tmp_path, clock, plans, box):
    """R2: a version 5 database stored Shopify's and Amazon's reach as an
    instant counted from connect. After the upgrade those stores carry a
    rolling reach (60 days, two years) that each pull places again; another
    channel's instant stays fixed; a store without a limit keeps none."""
    from datetime import timedelta

    from makersync.daemon.domain import integrations
    from makersync.daemon.store.models import StoreRow
    from tests.daemon.conftest import Books

    db = open_database(None, tmp_path)
    migrations.migrate(db, migrations.MIGRATIONS[:5])
    books = Books(db, clock, plans, box)
    account = books.account()
    stores = {channel: books.store(account, channel) for channel in ("shopify", "amazon", "etsy")}
    unlimited = books.store(account, "etsy")
    since = {"shopify": clock.now() - timedelta(days=60), "amazon": clock.now() - timedelta(days=730),
             "etsy": clock.now() - timedelta(days=5)}
    for channel, store in stores.items():
        db.pw.execute_sql("UPDATE stores SET reachable_since = ? WHERE id = ?",
                          (StoreRow.reachable_since.db_value(since[channel]), int(store.id)))
    db.pw.execute_sql("ALTER TABLE stores DROP COLUMN reach_s")  # version 5 had none

    assert migrations.migrate(db) == [6]
    got = {c: integrations.get_store(db, s.id) for c, s in stores.items()}
    assert (got["shopify"].reach, got["shopify"].reachable_since) == (timedelta(days=60), None)
    assert (got["amazon"].reach, got["amazon"].reachable_since) == (timedelta(days=730), None)
    assert (got["etsy"].reach, got["etsy"].reachable_since) == (None, since["etsy"])
    plain = integrations.get_store(db, unlimited.id)
    assert (plain.reach, plain.reachable_since) == (None, None)
    db.close()
