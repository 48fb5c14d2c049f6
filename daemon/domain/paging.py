"""Ids and page tokens: pure helpers shared by the domain and the store.

Page tokens are opaque to callers: urlsafe base64 of a small JSON object with
the last item's sort key and a short digest of the request the page answered
(the list and its filters, not the page size). Anything that does not decode
is refused as InvalidArgument naming ``page_token``, and so is a token of
another list or of the same list with other filters: paging on from it would
silently skip or repeat items, or page a list the caller did not ask for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from makersync.daemon.domain.errors import InvalidArgument, NotFound

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_MAX_ID = 2**63 - 1


def parse_id(value: str | int | None, field: str, what: str = "") -> int:
    """The integer behind an id string. '' -> InvalidArgument (required);
    anything that is not a positive integer -> NotFound (no such thing)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 < value <= _MAX_ID:
            return value
        raise NotFound(field, f"no {what or field.removesuffix('_id')} {value}")
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidArgument(field, "is required")
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_ID:
        raise NotFound(field, f"no {what or field.removesuffix('_id')} {value!r}")
    return int(text)


def parse_optional_id(value: str | None, field: str, what: str = "") -> int | None:
    """Like ``parse_id`` but '' or None means "none"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_id(value, field, what)


def page_size(value: int | None) -> int:
    """0/None -> 50; 1..1000 as given; negative -> InvalidArgument; above 1000 -> 1000."""
    if value is None or value == 0:
        return DEFAULT_PAGE_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument("page_size", f"must be 0 (default {DEFAULT_PAGE_SIZE}) or positive, got {value!r}")
    return min(value, MAX_PAGE_SIZE)


def token_scope(method: str, *filters: object) -> str:
    """A short digest of a list (``method``) and the filters that shape it,
    for binding that list's page tokens to them. Filters are compared by
    their JSON form (``str()`` for dates and other non-JSON values)."""
    raw = json.dumps([method, *filters], separators=(",", ":"), default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


_NOT_OURS = "is not a token from a previous page of this list"
_OTHER_REQUEST = "was issued for another request: keep the filters of the first page"


def encode_token(key: list[Any], scope: str) -> str:
    """An opaque token for the sort key of the last item of a page of the
    list ``scope`` (from :func:`token_scope`)."""
    raw = json.dumps({"k": key, "s": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str | None, arity: int, scope: str) -> list[Any] | None:
    """The sort key in ``token`` ('' -> None). InvalidArgument naming
    ``page_token`` if malformed or issued for another list or other filters."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        body = None
    is_ours = isinstance(body, dict) and set(body) == {"k", "s"}
    if not (is_ours and isinstance(body["s"], str) and isinstance(body["k"], list)):
        raise InvalidArgument("page_token", _NOT_OURS)
    if body["s"] != scope:  # checked first: another list's key may have another shape
        raise InvalidArgument("page_token", _OTHER_REQUEST)
    key = body["k"]
    if len(key) != arity or not all(isinstance(k, (int, str)) and not isinstance(k, bool) for k in key):
        raise InvalidArgument("page_token", _NOT_OURS)
    return key
