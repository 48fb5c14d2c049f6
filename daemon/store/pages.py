"""Keyset pagination over peewee queries (tokens from ``domain.paging``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import peewee as pw

from makersync.daemon.domain.errors import InvalidArgument
from makersync.daemon.domain.paging import decode_token, encode_token, token_scope
from makersync.daemon.store.fields import UTCDateTimeField


def _key_value(field: pw.Field, value: Any) -> Any:
    if isinstance(field, UTCDateTimeField):
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise InvalidArgument("page_token", "is not a token from a previous page of this list")
        return parsed
    if isinstance(field, (pw.AutoField, pw.BigAutoField, pw.IntegerField)) and not isinstance(value, int):
        raise InvalidArgument("page_token", "is not a token from a previous page of this list")
    return value


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def decode_key(token: str, fields: Sequence[pw.Field], scope: Sequence[Any]) -> list[Any] | None:
    """The sort key in ``token`` as the fields' Python values ('' -> None).
    ``scope`` is the list's name and the filters that shape it (not the page
    size). Raises InvalidArgument naming ``page_token`` when it is not one of
    ours or was issued for another list or other filters."""
    raw = decode_token(token, len(fields), token_scope(*scope))
    return None if raw is None else [_key_value(f, v) for f, v in zip(fields, raw, strict=True)]


def encode_key(values: Sequence[Any], scope: Sequence[Any]) -> str:
    """The token for the sort key ``values`` of a page's last item of the list ``scope``."""
    return encode_token([_encode_value(v) for v in values], token_scope(*scope))


def keyset_page(
    query: Any,
    fields: Sequence[pw.Field],
    size: int,
    token: str,
    scope: Sequence[Any],
    descending: bool = False,
) -> tuple[list[Any], str]:
    """One page of ``query`` ordered by ``fields`` (unique together, e.g. ending
    in the id). ``scope`` names the list and its filters, e.g.
    ``("locations", account_id)``: tokens are only accepted back for the same.
    Returns the rows and the next token ('' on the last page)."""
    key = decode_key(token, fields, scope)
    if key is not None:
        cond = None
        for i in range(len(fields) - 1, -1, -1):
            step = fields[i] < key[i] if descending else fields[i] > key[i]
            cond = step if cond is None else step | ((fields[i] == key[i]) & cond)
        query = query.where(cond)
    order = [f.desc() if descending else f.asc() for f in fields]
    rows = list(query.order_by(*order).limit(size + 1))
    if len(rows) <= size:
        return rows, ""
    rows = rows[:size]
    last = rows[-1]
    return rows, encode_key([last.__data__.get(f.name) for f in fields], scope)
