"""Opening the database: SQLite (the embedded default) or PostgreSQL.

Models bind to one module-level ``DatabaseProxy`` (``database_proxy``) that
``open_database`` initialises, so a process talks to one database at a time.
Connections are per thread (peewee's default); SQLite write transactions take
the write lock up front (``BEGIN IMMEDIATE``) so two writers never deadlock
on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import peewee

database_proxy = peewee.DatabaseProxy()

SQLITE_FILENAME = "makersync.db"
LOCK_FILENAME = "makersyncd.lock"
SQLITE_BUSY_TIMEOUT_S = 10
SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "synchronous": "NORMAL",
    "foreign_keys": 1,
    "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000,
}


class DatabaseConfigError(Exception):
    """The database URL is unusable; the message says why (never the password)."""


class DataDirLocked(Exception):
    """Another daemon holds the data directory; the message names its pid."""


class Database:
    """The store handle passed to every domain and store function.

    ``backend`` is 'sqlite' or 'postgresql'; ``write_tx()`` opens a write
    transaction (nested calls become savepoints); ``read_tx()`` a plain one.
    """

    def __init__(self, pw: peewee.Database, backend: str, description: str) -> None:
        self.pw = pw
        self.backend = backend
        self.description = description

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    def write_tx(self) -> Any:
        """A transaction for writing (``BEGIN IMMEDIATE`` on SQLite)."""
        if self.is_sqlite and not self.pw.in_transaction():
            return self.pw.atomic("IMMEDIATE")
        return self.pw.atomic()

    def read_tx(self) -> Any:
        """A transaction for a consistent read of several queries."""
        return self.pw.atomic()

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        if not self.pw.is_closed():
            self.pw.close()

    def bind(self) -> None:
        """Point the models at this database (``open_database`` does it)."""
        database_proxy.initialize(self.pw)

    def __repr__(self) -> str:
        return f"Database({self.description})"


def open_database(url: str | None, data_dir: Path) -> Database:
    """Open (and bind the models to) the database.

    ``url`` None, '' or ``sqlite:///path`` -> SQLite (default file
    ``<data_dir>/makersync.db``); ``postgresql://user:pass@host:port/name``
    -> PostgreSQL through psycopg2. Raises DatabaseConfigError for any other
    scheme. The schema is not touched: call ``migrations.migrate`` next."""
    if not url or url.startswith("sqlite:"):
        path = _sqlite_path(url, data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        pw: peewee.Database = peewee.SqliteDatabase(
            str(path), pragmas=SQLITE_PRAGMAS, timeout=SQLITE_BUSY_TIMEOUT_S
        )
        db = Database(pw, "sqlite", f"sqlite {path}")
    elif url.startswith(("postgresql://", "postgres://")):
        pw, where = _postgres(url)
        db = Database(pw, "postgresql", f"postgresql {where}")
    else:
        scheme = url.split(":", 1)[0]
        raise DatabaseConfigError(
            f"database_url: unsupported scheme {scheme!r}; use postgresql://... or leave it "
            "empty for the embedded SQLite file"
        )
    db.bind()
    return db


def _sqlite_path(url: str | None, data_dir: Path) -> Path:
    if not url:
        return Path(data_dir) / SQLITE_FILENAME
    rest = url[len("sqlite:") :]
    if rest.startswith("///"):
        rest = rest[2:]
    elif rest.startswith("//"):
        rest = rest[2:]
    if not rest or rest == "/":
        return Path(data_dir) / SQLITE_FILENAME
    return Path(unquote(rest))


def _postgres(url: str) -> tuple[peewee.PostgresqlDatabase, str]:
    parts = urlparse(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise DatabaseConfigError("database_url: name the database, e.g. postgresql://host/makersync")
    kwargs: dict[str, Any] = {}
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)
    if parts.hostname:
        kwargs["host"] = parts.hostname
    if parts.port:
        kwargs["port"] = parts.port
    for item in filter(None, parts.query.split("&")):
        key, _, value = item.partition("=")
        kwargs[unquote(key)] = unquote(value)
    pw = peewee.PostgresqlDatabase(name, autoconnect=True, thread_safe=True, **kwargs)
    where = f"{parts.hostname or 'local socket'}:{parts.port or 5432}/{name}"
    return pw, where


# --- one daemon per data directory ------------------------------------------

_held_locks: dict[str, int] = {}


def acquire_data_dir_lock(data_dir: Path) -> int:
    """Take ``<data_dir>/makersyncd.lock`` for this process's lifetime (flock),
    writing our pid into it, so a second daemon on the same SQLite file refuses
    to start. Returns the lock's file descriptor (kept open; closing it, or
    ``release_data_dir_lock``, releases the lock).

    Raises DataDirLocked naming the pid of the daemon that holds it."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILENAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        other = _read_pid(fd)
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            who = f"pid {other}" if other else "another process"
            raise DataDirLocked(
                f"data directory {data_dir} is in use by another makersyncd ({who}); "
                "stop it first, or give this daemon another data_dir or a PostgreSQL "
                "database_url to share"
            ) from None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.fsync(fd)
    _held_locks[str(path)] = fd
    return fd


def release_data_dir_lock(data_dir: Path) -> None:
    """Release the lock taken by ``acquire_data_dir_lock`` (at shutdown)."""
    fd = _held_locks.pop(str(Path(data_dir) / LOCK_FILENAME), None)
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_pid(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode(errors="replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


@contextlib.contextmanager
def connection(db: Database) -> Iterator[Database]:
    """Open this thread's connection for a block and close it after (worker threads)."""
    with db.pw.connection_context():
        yield db
