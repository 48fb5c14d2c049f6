"""Ids and page tokens: pure helpers shared by the domain and the store.

Page tokens are opaque to callers: urlsafe base64 of the JSON list of the last
item's sort key. Anything that does not decode is refused as InvalidArgument
naming ``page_token``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from makersync.daemon.domain.errors import InvalidArgument, NotFound

DEFAULT_PAGE_SIZE = 50
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


def encode_token(key: list[Any]) -> str:
    """An opaque token for the sort key of the last item of a page."""
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str | None, arity: int) -> list[Any] | None:
    """The sort key in ``token`` ('' -> None). InvalidArgument if malformed."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        key = None
    if not isinstance(key, list) or len(key) != arity or not all(
        isinstance(k, (int, str)) and not isinstance(k, bool) for k in key
    ):
        raise InvalidArgument("page_token", "is not a token from a previous page of this list")
    return key
