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
    assert db.pw.get_tables() == []
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

    assert migrations.migrate(db) == [3, 4]
    with db.write_tx():
        schedule.mark_changed(db)
    assert schedule.glance(db).epoch == 1
    db.close()
