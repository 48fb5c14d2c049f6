"""Many rows in one statement: the page writes' fast path (QUALITY P1).

peewee builds the SQL of every query anew, value by value, which costs more
than SQLite spends storing or finding the rows (a page of 100 orders with
their lines took about 40 ms of peewee against 4 ms of SQLite). A page write
instead names its columns once (:class:`RowWriter`): the statement is built
once per model and backend, text, integer and boolean values go to the
driver as they are, money and instants through their field's conversion
(instants' text remembered), and the rows go in one call: ``executemany``
on SQLite, ``execute_values`` (a multi-row ``INSERT``) on PostgreSQL.
:func:`select_in` is the lookup by a page's external ids, in plain SQL, and
:class:`RowReader` the same kind of read for other statements (ListOrders).

Nothing here commits: the rows join the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import peewee

from makersync.daemon.store.fields import MoneyField, UTCDateTimeField

Convert = Callable[[Any], Any]
PG_PAGE_ROWS = 500
CHUNK_KEYS = 400  # keeps IN (...) lists under SQLite's variable limit
# peewee's own wrapper: driver errors become peewee's (IntegrityError, ...), as on its queries
_DRIVER_ERRORS: Any = peewee.__exception_wrapper__  # type: ignore[attr-defined]


def _db(model: type[peewee.Model]) -> peewee.Database:
    db = model._meta.database
    return db.obj if isinstance(db, peewee.DatabaseProxy) else db


def _is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def _money(field: peewee.Field) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is Decimal and value.is_finite():
            return str(value)
        return field.db_value(value)
    return convert


_INSTANT_TEXTS: dict[datetime, str] = {}
_INSTANT_TEXTS_MAX = 4096


def _instant_text(field: peewee.Field) -> Convert:
    """SQLite's fixed-width UTC text, as :class:`UTCDateTimeField` writes it,
    remembered: formatting a datetime costs twenty dictionary lookups, and
    a page's rows share many instants (the pull's own time on every row)."""
    def convert(value: Any) -> Any:
        text = _INSTANT_TEXTS.get(value) if type(value) is datetime and value.tzinfo is UTC else None
        if text is None:
            text = field.db_value(value)
            if type(value) is datetime and value.tzinfo is UTC:
                if len(_INSTANT_TEXTS) >= _INSTANT_TEXTS_MAX:
                    _INSTANT_TEXTS.clear()
                _INSTANT_TEXTS[value] = text
        return text
    return convert


_INTEGERS = (peewee.IntegerField, peewee.BigIntegerField, peewee.AutoField, peewee.BigAutoField)
_PLAIN_FIELDS = (peewee.TextField, peewee.CharField, peewee.BooleanField, *_INTEGERS)


def _converter(field: peewee.Field, postgres: bool) -> Convert | None:
    """How a value of ``field`` becomes a driver value; None where the
    driver takes the Python value as it is (exact text, integer and boolean
    fields and integer foreign keys: a subclass such as a JSON text field
    converts its own way)."""
    kind = type(field)
    if kind in _PLAIN_FIELDS or (kind is peewee.ForeignKeyField and type(getattr(field, "rel_field", None)) in _INTEGERS):
        return None
    if kind is MoneyField:
        return _money(field)
    if kind is UTCDateTimeField and not postgres:
        return _instant_text(field)
    return field.db_value


class RowWriter:
    """Inserts rows of ``model`` given as tuples in ``columns`` order (field
    names, as on the model: ``order`` for the ``order_id`` column).

    Values must have their field's Python type (``str`` for text, ``int``
    for integers and foreign keys, ``Decimal`` for money, aware ``datetime``
    for instants); text, integer and boolean values reach the driver as
    they are, the others through their field's conversion."""

    def __init__(self, model: type[peewee.Model], columns: Sequence[str]) -> None:
        self.model = model
        given = [model._meta.fields[name] for name in columns]
        # as peewee's own inserts do, fields not given take their defaults
        self.defaults = [f for f in model._meta.sorted_fields  # by name: a Field's == builds SQL
                         if f.name not in columns and not f.primary_key and f.default is not None]
        self.fields = given + self.defaults
        self._width = len(given)
        self._built: tuple[peewee.Database, str, list[Convert | None]] | None = None

    def _statement(self) -> tuple[peewee.Database, str, list[Convert | None]]:
        db = _db(self.model)
        built = self._built
        if built is None or built[0] is not db:
            postgres = _is_postgres(db)
            table = self.model._meta.table_name
            names = ", ".join(f'"{f.column_name}"' for f in self.fields)
            values = "%s" if postgres else "(" + ", ".join("?" for _ in self.fields) + ")"
            sql = f'INSERT INTO "{table}" ({names}) VALUES {values}'
            built = self._built = (db, sql, [_converter(f, postgres) for f in self.fields])
        return built

    def insert(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows``; returns how many."""
        db, sql, converters = self._statement()
        converted = [(i, conv) for i, conv in enumerate(converters[: self._width]) if conv is not None]
        tail = []
        for f, conv in zip(self.defaults, converters[self._width:], strict=True):
            value = f.default() if callable(f.default) else f.default
            tail.append(value if conv is None else conv(value))
        values = []
        for row in rows:
            out = list(row)
            for i, conv in converted:
                value = out[i]
                if value is not None:
                    out[i] = conv(value)
            out += tail
            values.append(out)
        if not values:
            return 0
        with _DRIVER_ERRORS:
            cursor = db.cursor()
            if _is_postgres(db):
                from psycopg2.extras import execute_values

                execute_values(cursor, sql, [tuple(v) for v in values], page_size=PG_PAGE_ROWS)
            else:
                cursor.executemany(sql, values)
        return len(values)


def _read_raw(field: peewee.Field) -> bool:
    """Whether the driver's value is already the Python value (text, integers, integer keys)."""
    kind = type(field)
    return kind in (peewee.TextField, peewee.CharField, *_INTEGERS) or (
        kind is peewee.ForeignKeyField and type(getattr(field, "rel_field", None)) in _INTEGERS)


class RowReader:
    """Reads rows of ``model`` as tuples in ``columns`` order (field names, as
    on the model), each value its field's Python value: what peewee's
    ``.tuples()`` gives, without building the query's SQL on every call."""

    def __init__(self, model: type[peewee.Model], columns: Sequence[str]) -> None:
        self.model = model
        self.names = tuple(columns)
        fields = [model._meta.fields[name] for name in columns]
        self.table = f'"{model._meta.table_name}"'
        self.columns = ", ".join(f'"{f.column_name}"' for f in fields)
        self._readers = [(i, f.python_value) for i, f in enumerate(fields) if not _read_raw(f)]

    def column(self, name: str) -> str:
        """The quoted column of field ``name``, for a WHERE or ORDER BY clause."""
        return f'"{self.model._meta.fields[name].column_name}"'

    def param(self) -> str:
        """The driver's placeholder for one parameter on the bound database."""
        return "%s" if _is_postgres(_db(self.model)) else "?"

    def instance(self, row: Sequence[Any]) -> Any:
        """A fetched row as a model instance (no query), for code written for peewee's rows."""
        return self.model(**dict(zip(self.names, row, strict=True)))

    def fetch(self, clauses: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """``SELECT columns FROM table <clauses>``, as tuples of Python values."""
        with _DRIVER_ERRORS:
            cursor = _db(self.model).cursor()
            cursor.execute(f"SELECT {self.columns} FROM {self.table} {clauses}", list(params))
            rows = cursor.fetchall()
        if self._readers:
            for n, row in enumerate(rows):
                fixed = list(row)
                for i, read in self._readers:
                    fixed[i] = read(fixed[i])
                rows[n] = tuple(fixed)
        return rows


def select_in(model: type[peewee.Model], columns: Sequence[str], key: str, values: Sequence[Any], /,
              **equal: Any) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM model WHERE <each of equal> AND key IN values``, as
    tuples of Python values, ``values`` taken ``CHUNK_KEYS`` at a time.
    ``equal`` and ``values`` must be plain ints or strings (ids, external ids)."""
    reader = RowReader(model, columns)
    param = reader.param()
    scope = "".join(f"{reader.column(name)} = {param} AND " for name in equal)
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(values), CHUNK_KEYS):
        part = list(values[start:start + CHUNK_KEYS])
        out.extend(reader.fetch(f"WHERE {scope}{reader.column(key)} IN ({', '.join(param for _ in part)})",
                                [*equal.values(), *part]))
    return out
