"""Custom peewee fields: exact money, aware UTC instants, JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import peewee


class MoneyField(peewee.TextField):
    """A ``Decimal`` stored as its exact decimal string (never REAL), read back as ``Decimal``."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, str or int, never float")
        try:
            dec = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value!r}") from None
        if not dec.is_finite():
            raise ValueError(f"money must be finite, got {value!r}")
        return str(dec)

    def python_value(self, value: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store aware UTC instants only")
    return value.astimezone(UTC)


class UTCDateTimeField(peewee.Field):
    """An aware instant stored in UTC.

    SQLite: text ``YYYY-MM-DD HH:MM:SS.ffffff`` (fixed width, so text
    order is time order). PostgreSQL: ``timestamp`` (without zone) holding UTC.
    Always returns an aware UTC ``datetime``; naive input is refused."""

    field_type = "DATETIME"  # peewee maps it to TIMESTAMP on PostgreSQL

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        utc = _to_utc(value).replace(tzinfo=None)
        if isinstance(self._database(), peewee.PostgresqlDatabase):
            return utc
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")

    def python_value(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def _database(self) -> Any:
        db = self.model._meta.database
        return db.obj if isinstance(db, peewee.DatabaseProxy) else db


class JsonField(peewee.TextField):
    """Any JSON value stored as compact text (sorted keys, so equal values compare equal)."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)
