"""Numbered forward migrations and the ``schema_version`` table.

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``. Migration 1
creates every table from the models as they stand now, so a later migration
that adds a table creates it only if missing and then does what an older
database needs (its first row, triggers, counts). A later change to a model
needs a new migration appended here (``playhouse.migrate`` operations or plain
SQL), never an edit of an old one. ``migrate`` runs at start-up and
applies the pending ones, each in its own transaction with its version row.
On SQLite the transaction runs with foreign keys off, as SQLite's procedure
for schema changes asks (a rebuilt table's DROP TABLE would otherwise cascade
into its child tables), and ``PRAGMA foreign_key_check`` must come back empty
before it commits. A database written by a newer daemon (a higher version than
the code knows) is refused with ``SchemaTooNew`` rather than guessed at.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import peewee as pw

from makersync.daemon.store.db import Database, database_proxy
from makersync.daemon.store.models import ALL_MODELS, OrderCountRow, ScheduleEpochRow, StoreRow

Migration = Callable[[Database], None]
_MIGRATION_LOCK_KEY = 0x6D6B7379  # "mksy": the advisory lock migrations hold on PostgreSQL


class SchemaTooNew(Exception):
    """The database's schema is newer than this daemon's code."""


class MigrationFailed(Exception):
    """A migration met a schema it does not recognise or left broken foreign
    keys; its transaction was rolled back and the message says what it found."""


class SchemaVersionRow(pw.Model):
    version = pw.IntegerField(primary_key=True)
    applied_at = pw.TextField()

    class Meta:
        database = database_proxy
        table_name = "schema_version"


def _m1_create_tables(db: Database) -> None:
    db.pw.create_tables(ALL_MODELS, safe=False)


def _m2_order_list_indexes(db: Database) -> None:
    """ListOrders pages newest first by (placed_at, id): index the whole sort key,
    so a page of 100 over 100,000 orders reads 101 index entries instead of sorting."""
    for name, columns in (("orders_account_placed_id", "account_id, placed_at, id"),
                          ("orders_store_placed_id", "store_id, placed_at, id")):
        db.pw.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON orders ({columns})")


def _m3_schedule_epoch(db: Database) -> None:
    """The schedulers' change marker, created with its one row so that marking
    a change is a plain UPDATE. (On a new database migration 1 has created the
    table already, from the models as they stand.)"""
    db.pw.create_tables([ScheduleEpochRow], safe=True)
    ScheduleEpochRow.insert(id=1, epoch=0).on_conflict_ignore().execute()


_SQLITE_ORDER_COUNT_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS orders_count_insert AFTER INSERT ON orders BEGIN
         INSERT INTO order_counts (account_id, store_key, orders)
         VALUES (NEW.account_id, COALESCE(NEW.store_id, 0), 1)
         ON CONFLICT (account_id, store_key) DO UPDATE SET orders = orders + 1;
       END""",
    """CREATE TRIGGER IF NOT EXISTS orders_count_delete AFTER DELETE ON orders BEGIN
         UPDATE order_counts SET orders = orders - 1
         WHERE account_id = OLD.account_id AND store_key = COALESCE(OLD.store_id, 0);
       END""",
    """CREATE TRIGGER IF NOT EXISTS orders_count_move AFTER UPDATE OF account_id, store_id ON orders
       WHEN OLD.account_id IS NOT NEW.account_id OR OLD.store_id IS NOT NEW.store_id BEGIN
         UPDATE order_counts SET orders = orders - 1
         WHERE account_id = OLD.account_id AND store_key = COALESCE(OLD.store_id, 0);
         INSERT INTO order_counts (account_id, store_key, orders)
         VALUES (NEW.account_id, COALESCE(NEW.store_id, 0), 1)
         ON CONFLICT (account_id, store_key) DO UPDATE SET orders = orders + 1;
       END""",
)
_POSTGRES_ORDER_COUNT_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION orders_count() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.account_id = NEW.account_id
            AND OLD.store_id IS NOT DISTINCT FROM NEW.store_id THEN
           RETURN NULL;
         END IF;
         IF TG_OP IN ('DELETE', 'UPDATE') THEN
           UPDATE order_counts SET orders = orders - 1
           WHERE account_id = OLD.account_id AND store_key = COALESCE(OLD.store_id, 0);
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') THEN
           INSERT INTO order_counts (account_id, store_key, orders)
           VALUES (NEW.account_id, COALESCE(NEW.store_id, 0), 1)
           ON CONFLICT (account_id, store_key) DO UPDATE SET orders = order_counts.orders + 1;
         END IF;
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS orders_count ON orders",
    """CREATE TRIGGER orders_count AFTER INSERT OR DELETE OR UPDATE OF account_id, store_id ON orders
       FOR EACH ROW EXECUTE FUNCTION orders_count()""",
)


def _m4_order_counts(db: Database) -> None:
    """ListOrders reports ``total_size`` on every page; counting 100,000 orders
    took longer than the rest of the call (QUALITY P6). Triggers keep a count
    per account and store instead, in the writer's own transaction, whichever
    code path (or cascade) adds or removes the orders; existing orders are
    counted once here."""
    db.pw.create_tables([OrderCountRow], safe=True)
    triggers = _SQLITE_ORDER_COUNT_TRIGGERS if db.is_sqlite else _POSTGRES_ORDER_COUNT_TRIGGERS
    for statement in triggers:
        db.pw.execute_sql(statement)
    db.pw.execute_sql("DELETE FROM order_counts")
    db.pw.execute_sql("INSERT INTO order_counts (account_id, store_key, orders) "
                      "SELECT account_id, COALESCE(store_id, 0), COUNT(*) FROM orders GROUP BY 1, 2")


def _m5_ids_never_reused(db: Database) -> None:
    """On SQLite a plain INTEGER PRIMARY KEY hands out max(id) + 1, so once a
    disconnect had deleted the newest store, its pulls and orders, the next
    connect got the same ids, and an id a caller had kept (a script, a CSV
    export, ``makersync watch 17``) named another account's data (R3, API ids).
    AUTOINCREMENT never hands an id out twice, and SQLite adds it only by
    rebuilding the table. PostgreSQL's sequences never go back: nothing to do.

    New databases come this way too, rather than from the models: peewee has
    no portable AUTOINCREMENT, and rebuilding tables that are still empty takes
    milliseconds. A later migration that adds a table with an auto id calls
    ``_sqlite_autoincrement`` for it (a test checks every such table)."""
    if not db.is_sqlite:
        return
    for model in ALL_MODELS:
        if isinstance(model._meta.primary_key, pw.AutoField):
            _sqlite_autoincrement(db, model._meta.table_name)


def _sqlite_autoincrement(db: Database, table: str) -> None:
    """Rebuild ``table`` with ``id INTEGER PRIMARY KEY AUTOINCREMENT`` by SQLite's
    documented procedure (https://sqlite.org/lang_altertable.html#otheralter):
    a new table from the old DDL, copy the rows, drop the old, rename; then the
    indexes and triggers the drop took with it (``orders`` carries the order
    counts' triggers), and the sequence seeded with the highest id present, so
    new ids continue after it. Raises MigrationFailed on a DDL it does not
    recognise, or when foreign keys are on: then dropping the old table would
    delete every row of its child tables by cascade."""
    if db.pw.execute_sql("PRAGMA foreign_keys").fetchone()[0]:
        raise MigrationFailed(f"{table}: rebuilding with foreign keys on would cascade into its child tables")
    (ddl,) = db.pw.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).fetchone()
    if "AUTOINCREMENT" in ddl.upper():
        return  # already rebuilt
    rebuilt = f"{table}__rebuilt"
    new_ddl = _autoincrement_ddl(ddl, table, rebuilt)
    dependents = [sql for (sql,) in db.pw.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? "
        "AND sql IS NOT NULL", (table,))]  # sql is NULL for the indexes UNIQUE makes itself
    db.pw.execute_sql(new_ddl)
    db.pw.execute_sql(f'INSERT INTO "{rebuilt}" SELECT * FROM "{table}"')  # same DDL, same columns
    db.pw.execute_sql(f'DROP TABLE "{table}"')
    db.pw.execute_sql(f'ALTER TABLE "{rebuilt}" RENAME TO "{table}"')
    for sql in dependents:
        db.pw.execute_sql(sql)
    db.pw.execute_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
    db.pw.execute_sql(f'INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(id), 0) FROM "{table}"',
                      (table,))


_SQLITE_ID_COLUMN = re.compile(r'"id" INTEGER NOT NULL PRIMARY KEY\b')


def _autoincrement_ddl(ddl: str, table: str, new_name: str) -> str:
    """``table``'s CREATE TABLE (as peewee wrote it) renamed to ``new_name``, its
    id column made AUTOINCREMENT. Raises MigrationFailed on any other shape
    rather than guess at a schema edited by hand."""
    head = f'CREATE TABLE "{table}" ('
    if not ddl.startswith(head) or len(_SQLITE_ID_COLUMN.findall(ddl)) != 1:
        raise MigrationFailed(f"{table}: unexpected DDL, no single integer id primary key: {ddl!r}")
    body = _SQLITE_ID_COLUMN.sub(lambda found: f"{found.group(0)} AUTOINCREMENT", ddl[len(head):])
    return f'CREATE TABLE "{new_name}" ({body}'


_ROLLING_REACH_S = {"shopify": 60 * 86400, "amazon": 730 * 86400}
"""What the built-in channels' stored ``reachable_since`` meant before
migration 6: the last 60 days (Shopify without ``read_all_orders``), the last
two years (Amazon), counted from connect time."""


def _m6_rolling_reach(db: Database) -> None:
    """A channel's reach is relative to now (R2): a Shopify app without
    ``read_all_orders`` reads the last 60 days of *today*, not of the day the
    store was connected, so storing ``connect - 60 days`` let later pulls claim
    days the channel could no longer read. Stores keep the rolling limit as
    ``reach_s`` and the engine places it per pull. The built-in channels'
    instants become their rolling reach; another channel's stays a fixed
    instant, as its SDK contract said. (On a new database migration 1 has
    created the column already.)"""
    table, column = StoreRow._meta.table_name, StoreRow.reach_s.column_name
    if column not in {c.name for c in db.pw.get_columns(table)}:
        db.pw.execute_sql(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER")
    for channel, reach_s in _ROLLING_REACH_S.items():
        (StoreRow.update(reach_s=reach_s, reachable_since=None)
         .where(StoreRow.channel == channel, StoreRow.reachable_since.is_null(False)).execute())


MIGRATIONS: list[Migration] = [_m1_create_tables, _m2_order_list_indexes, _m3_schedule_epoch,
                               _m4_order_counts, _m5_ids_never_reused, _m6_rolling_reach]


def latest_version() -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS)


def current_version(db: Database) -> int:
    """The database's schema version (0 for an empty database)."""
    if not db.pw.table_exists(SchemaVersionRow._meta.table_name):
        return 0
    value = SchemaVersionRow.select(pw.fn.MAX(SchemaVersionRow.version)).scalar()
    return int(value or 0)


def _serialise(db: Database) -> None:
    """Make concurrent migrators take turns (SQLite: BEGIN IMMEDIATE already does)."""
    if not db.is_sqlite:
        db.pw.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))


@contextlib.contextmanager
def _sqlite_foreign_keys_off(db: Database) -> Iterator[None]:
    """Foreign keys off on this connection for one migration (SQLite only).
    ``PRAGMA foreign_keys`` is ignored inside a transaction, so it is switched
    around the migration's transaction, never within it."""
    if not db.is_sqlite:
        yield
        return
    db.pw.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        db.pw.execute_sql("PRAGMA foreign_keys = ON")


def _check_foreign_keys(db: Database, version: int) -> None:
    """With foreign keys off nothing stopped a migration from leaving a row
    whose reference points nowhere: refuse to commit one that did (SQLite)."""
    if not db.is_sqlite:
        return
    broken = db.pw.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        shown = ", ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in broken[:5])
        raise MigrationFailed(f"migration {version} left {len(broken)} broken foreign keys: {shown}")


def migrate(db: Database, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations; returns the versions applied (oldest first).

    Safe when several daemons start at once on one database. Raises
    SchemaTooNew when the database is newer than the code, MigrationFailed
    when a migration could not be applied (it is rolled back)."""
    steps = MIGRATIONS if migrations is None else migrations
    with db.write_tx():
        _serialise(db)
        db.pw.create_tables([SchemaVersionRow], safe=True)
        have = current_version(db)
    if have > len(steps):
        raise SchemaTooNew(
            f"the database ({db.description}) has schema version {have}, but this "
            f"makersyncd knows versions up to {len(steps)}; upgrade makersyncd (a newer "
            "daemon wrote this database) or restore a matching backup"
        )
    applied = []
    for version in range(have + 1, len(steps) + 1):
        with _sqlite_foreign_keys_off(db), db.write_tx():
            _serialise(db)
            if current_version(db) >= version:
                continue  # another daemon applied it while we waited
            steps[version - 1](db)
            _check_foreign_keys(db, version)
            SchemaVersionRow.create(version=version, applied_at=datetime.now(UTC).isoformat())
        applied.append(version)
    return applied
